#include "bench/math/own_ecm.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "math/montgomery.h"
#include "math/trial.h"

namespace zfactor::math::bench {
namespace {

using Residue = MontgomeryMpn::Residue;

struct Point {
  Residue x, z;
};

class Curve {
 public:
  Curve(MontgomeryMpn* m, Residue a24) : m_(*m), a24_(std::move(a24)), t1_(m->size()), t2_(m->size()),
                                          t3_(m->size()), t4_(m->size()) {}

  // r = 2p: X = (x+z)^2 (x-z)^2, Z = 4xz ((x-z)^2 + a24 4xz).
  void Dbl(Point& r, const Point& p) {
    m_.Add(t1_, p.x, p.z);
    m_.Sqr(t1_, t1_);
    m_.Sub(t2_, p.x, p.z);
    m_.Sqr(t2_, t2_);
    m_.Sub(t3_, t1_, t2_);
    m_.Mul(r.x, t1_, t2_);
    m_.Mul(t4_, a24_, t3_);
    m_.Add(t4_, t4_, t2_);
    m_.Mul(r.z, t3_, t4_);
  }

  // r = p + q given d = p - q. r may alias p or q, not d.
  void Add(Point& r, const Point& p, const Point& q, const Point& d) {
    m_.Sub(t1_, p.x, p.z);
    m_.Add(t2_, q.x, q.z);
    m_.Mul(t1_, t1_, t2_);  // u
    m_.Add(t3_, p.x, p.z);
    m_.Sub(t4_, q.x, q.z);
    m_.Mul(t3_, t3_, t4_);  // v
    m_.Add(t2_, t1_, t3_);
    m_.Sub(t4_, t1_, t3_);
    m_.Sqr(t2_, t2_);
    m_.Sqr(t4_, t4_);
    m_.Mul(r.x, d.z, t2_);
    m_.Mul(r.z, d.x, t4_);
  }

  // p = k p by the Montgomery ladder. REQUIRES: k >= 1.
  void Multiply(Point& p, uint64_t k) {
    if (k == 1) return;
    Point r0 = p, r1;
    r1.x.resize(m_.size());
    r1.z.resize(m_.size());
    Dbl(r1, p);
    for (int bit = 62 - __builtin_clzll(k); bit >= 0; --bit) {
      if ((k >> bit) & 1) {
        Add(r0, r0, r1, p);
        Dbl(r1, r1);
      } else {
        Add(r1, r0, r1, p);
        Dbl(r0, r0);
      }
    }
    p = std::move(r0);
  }

 private:
  MontgomeryMpn& m_;
  Residue a24_;
  Residue t1_, t2_, t3_, t4_;
};

std::optional<mpz_class> Found(const mpz_class& g, const mpz_class& n) {
  if (g > 1 && g < n) return g;
  return std::nullopt;
}

}  // namespace

std::optional<mpz_class> OwnEcmCurve(const mpz_class& n, uint32_t b1, uint32_t b2, uint64_t sigma) {
  MontgomeryMpn m(n);
  // Suyama: u = s^2 - 5, v = 4s, x0 = u^3, z0 = v^3, a24 = (v-u)^3 (3u+v) / (16 u^3 v).
  const mpz_class s = static_cast<unsigned long>(sigma);
  const mpz_class u = s * s - 5, v = 4 * s;
  const mpz_class u3 = u * u * u, v3 = v * v * v;
  const mpz_class vu = v - u;
  mpz_class num = vu * vu * vu * (3 * u + v), den = 16 * u3 * v, g;
  mpz_gcd(g.get_mpz_t(), den.get_mpz_t(), n.get_mpz_t());
  if (g != 1) return Found(g, n);
  mpz_invert(den.get_mpz_t(), den.get_mpz_t(), n.get_mpz_t());
  Curve curve(&m, m.To(num * den));
  Point q{m.To(u3), m.To(v3)};

  // Stage 1.
  const std::vector<uint32_t> primes = SievePrimes(b1 + 1);
  for (uint32_t p : primes) {
    uint64_t pk = p;
    while (pk * p <= b1) pk *= p;
    curve.Multiply(q, pk);
  }
  mpz_class z = m.From(q.z);
  mpz_gcd(g.get_mpz_t(), z.get_mpz_t(), n.get_mpz_t());
  if (g != 1) return Found(g, n);

  // Stage 2: primes p = mD +- j in (b1, b2], acc *= X_m - x_j Z_m with the
  // baby steps x_j = [j]Q normalized to Z = 1.
  constexpr uint32_t kD = 2310;
  std::vector<uint32_t> js;
  for (uint32_t j = 1; j < kD / 2; j += 2) {
    if (std::gcd(j, kD) == 1) js.push_back(j);
  }
  std::vector<Point> baby(kD / 2 + 1);
  Point q2{Residue(m.size()), Residue(m.size())};
  curve.Dbl(q2, q);
  baby[1] = q;
  Point prev = q, cur{Residue(m.size()), Residue(m.size())};
  curve.Add(cur, q2, q, q);  // 3Q
  for (uint32_t j = 3; j < kD / 2; j += 2) {
    baby[j] = cur;
    Point next{Residue(m.size()), Residue(m.size())};
    curve.Add(next, cur, q2, prev);  // (j+2)Q = jQ + 2Q, difference (j-2)Q
    prev = cur;
    cur = next;
  }
  // Normalize the needed baby steps with one inversion (Montgomery's trick).
  std::vector<mpz_class> zs, xs;
  for (uint32_t j : js) {
    zs.push_back(m.From(baby[j].z));
    xs.push_back(m.From(baby[j].x));
  }
  std::vector<mpz_class> prefix(zs.size() + 1, 1);
  for (size_t i = 0; i < zs.size(); ++i) prefix[i + 1] = prefix[i] * zs[i] % n;
  mpz_class inv;
  if (mpz_invert(inv.get_mpz_t(), prefix.back().get_mpz_t(), n.get_mpz_t()) == 0) {
    mpz_gcd(g.get_mpz_t(), prefix.back().get_mpz_t(), n.get_mpz_t());
    return Found(g, n);
  }
  std::vector<Residue> xj(zs.size());
  for (size_t i = zs.size(); i-- > 0;) {
    const mpz_class zinv = inv * prefix[i] % n;
    inv = inv * zs[i] % n;
    xj[i] = m.To(xs[i] * zinv);
  }

  std::vector<bool> prime(b2 + kD + 1, false);
  for (uint32_t p : SievePrimes(b2 + 1)) {
    if (p > b1) prime[p] = true;
  }
  Point giant = q;
  curve.Multiply(giant, kD);
  // Giant steps R_m = [mD]Q from m0 = max(1, floor(b1/D)), so mD - j covers (b1, ...).
  const uint32_t m0 = std::max<uint32_t>(1, b1 / kD);
  Point rm = q, rm_next = q;
  curve.Multiply(rm, uint64_t{m0} * kD);
  curve.Multiply(rm_next, uint64_t{m0 + 1} * kD);
  Residue acc = m.To(1), t(m.size());
  for (uint32_t mm = m0; uint64_t{mm} * kD <= uint64_t{b2} + kD; ++mm) {
    const uint32_t center = mm * kD;
    for (size_t i = 0; i < js.size(); ++i) {
      const uint32_t j = js[i];
      if (!prime[center - j] && (center + j > b2 || !prime[center + j])) continue;
      m.Mul(t, xj[i], rm.z);
      m.Sub(t, rm.x, t);
      m.Mul(acc, acc, t);
    }
    Point next{Residue(m.size()), Residue(m.size())};
    curve.Add(next, rm_next, giant, rm);  // R_{m+2} = R_{m+1} + G, difference R_m
    rm = std::move(rm_next);
    rm_next = std::move(next);
  }
  mpz_class a = m.From(acc);
  mpz_gcd(g.get_mpz_t(), a.get_mpz_t(), n.get_mpz_t());
  return Found(g, n);
}

}  // namespace zfactor::math::bench
