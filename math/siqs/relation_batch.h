// Relations as a self-describing, version-tagged batch: the seam for
// several machines sieving one number. A batch names the number and the
// factor base it was sieved against (multiplier, size), so batches from
// different sievers can be checked for compatibility and merged.
#ifndef ZFACTOR_MATH_SIQS_RELATION_BATCH_H_
#define ZFACTOR_MATH_SIQS_RELATION_BATCH_H_

#include <gmpxx.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zfactor::math::siqs {

// Y^2 - kN = (-1)^e * prod fb[factors[i]] * large_prime * large_prime2.
struct Relation {
  mpz_class y;
  std::vector<uint32_t> factors;  // factor-base indices with multiplicity; index 0 is -1
  uint64_t large_prime = 1;       // 1 for a full relation
  uint64_t large_prime2 = 1;      // second large prime (double-large-prime relations), else 1

  bool full() const { return large_prime == 1 && large_prime2 == 1; }
};

struct RelationBatch {
  static constexpr uint32_t kVersion = 1;

  mpz_class n;
  uint32_t multiplier = 1;
  uint32_t fb_size = 0;
  uint64_t first_a = 0;  // A-polynomial index range this batch covers
  uint64_t num_a = 0;
  std::vector<Relation> relations;

  // A portable byte string: "ZFSQ", version, header, relations (little endian);
  // the layout is described in docs/SIQS.md.
  std::string Serialize() const;
  // nullopt for a truncated, corrupt or unknown-version string.
  static std::optional<RelationBatch> Parse(std::string_view bytes);
};

}  // namespace zfactor::math::siqs

#endif  // ZFACTOR_MATH_SIQS_RELATION_BATCH_H_
