#include "math/siqs/relations.h"

#include <cstring>

namespace zfactor::math::siqs {

bool VerifyRelation(const FactorBase& fb, const Relation& r) {
  mpz_class product = r.large_prime;
  product *= static_cast<unsigned long>(r.large_prime2);
  bool negative = false;
  for (uint32_t i : r.factors) {
    if (i >= fb.size()) return false;
    if (i == 0) {
      negative = !negative;
    } else {
      product *= fb.prime[i];
    }
  }
  if (negative) product = -product;
  mpz_class v = r.y * r.y - fb.kn;
  return v == product;
}

uint32_t RelationCounter::Vertex(uint64_t prime) {
  const auto [it, inserted] = vertex_.emplace(prime, static_cast<uint32_t>(parent_.size()));
  if (inserted) parent_.push_back(it->second);
  return it->second;
}

uint32_t RelationCounter::Find(uint32_t v) {
  while (parent_[v] != v) {
    parent_[v] = parent_[parent_[v]];
    v = parent_[v];
  }
  return v;
}

void RelationCounter::Add(const Relation& r) {
  if (r.full()) {
    ++fulls_;
    return;
  }
  ++partials_;
  if (r.large_prime2 != 1) ++doubles_;
  // Large primes are vertices (1 is one too), relations are edges; an edge
  // joining an already connected pair closes a cycle.
  const uint32_t a = Find(Vertex(r.large_prime));
  const uint32_t b = Find(Vertex(r.large_prime2));
  if (a == b) {
    ++cycles_;
  } else {
    parent_[a] = b;
  }
}

size_t RelationBytes(const Relation& r) {
  return sizeof(Relation) + mpz_size(r.y.get_mpz_t()) * sizeof(mp_limb_t) +
         r.factors.capacity() * sizeof(uint32_t);
}

namespace {

constexpr char kMagic[4] = {'Z', 'F', 'S', 'Q'};

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
// Sign byte, byte count, magnitude big-endian.
void PutMpz(std::string& out, const mpz_class& x) {
  out.push_back(sgn(x) < 0 ? 1 : 0);
  size_t count = 0;
  std::string bytes((mpz_sizeinbase(x.get_mpz_t(), 2) + 7) / 8 + 1, '\0');
  mpz_export(bytes.data(), &count, 1, 1, 1, 0, x.get_mpz_t());
  PutU32(out, static_cast<uint32_t>(count));
  out.append(bytes.data(), count);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool U32(uint32_t* v) {
    if (in_.size() - pos_ < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i)
      *v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (in_.size() - pos_ < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i)
      *v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return true;
  }
  bool Mpz(mpz_class* x) {
    if (in_.size() - pos_ < 1) return false;
    const char sign = in_[pos_++];
    if (sign != 0 && sign != 1) return false;
    uint32_t count = 0;
    if (!U32(&count) || in_.size() - pos_ < count) return false;
    mpz_import(x->get_mpz_t(), count, 1, 1, 1, 0, in_.data() + pos_);
    pos_ += count;
    if (sign == 1) *x = -*x;
    return true;
  }
  bool Magic() {
    if (in_.size() < sizeof(kMagic) || std::memcmp(in_.data(), kMagic, sizeof(kMagic)) != 0)
      return false;
    pos_ = sizeof(kMagic);
    return true;
  }
  bool AtEnd() const { return pos_ == in_.size(); }
  size_t Remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

std::string RelationBatch::Serialize() const {
  std::string out(kMagic, sizeof(kMagic));
  PutU32(out, kVersion);
  PutMpz(out, n);
  PutU32(out, multiplier);
  PutU32(out, fb_size);
  PutU64(out, first_a);
  PutU64(out, num_a);
  PutU64(out, relations.size());
  for (const Relation& r : relations) {
    PutMpz(out, r.y);
    PutU64(out, r.large_prime);
    PutU64(out, r.large_prime2);
    PutU32(out, static_cast<uint32_t>(r.factors.size()));
    for (uint32_t f : r.factors) PutU32(out, f);
  }
  return out;
}

std::optional<RelationBatch> RelationBatch::Parse(std::string_view bytes) {
  Reader in(bytes);
  RelationBatch batch;
  uint32_t version = 0;
  uint64_t count = 0;
  if (!in.Magic() || !in.U32(&version) || version != kVersion) return std::nullopt;
  if (!in.Mpz(&batch.n) || !in.U32(&batch.multiplier) || !in.U32(&batch.fb_size) ||
      !in.U64(&batch.first_a) || !in.U64(&batch.num_a) || !in.U64(&count)) {
    return std::nullopt;
  }
  if (count > in.Remaining()) return std::nullopt;  // every relation takes more than a byte
  batch.relations.resize(count);
  for (Relation& r : batch.relations) {
    uint32_t nf = 0;
    if (!in.Mpz(&r.y) || !in.U64(&r.large_prime) || !in.U64(&r.large_prime2) || !in.U32(&nf) ||
        nf > in.Remaining() / 4)
      return std::nullopt;
    r.factors.resize(nf);
    for (uint32_t& f : r.factors) {
      if (!in.U32(&f) || f >= batch.fb_size) return std::nullopt;
    }
  }
  if (!in.AtEnd()) return std::nullopt;
  return batch;
}

}  // namespace zfactor::math::siqs
