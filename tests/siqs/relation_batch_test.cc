#include "math/siqs/relation_batch.h"

#include <gtest/gtest.h>

namespace zfactor::math::siqs {
namespace {

TEST(RelationBatch, RoundTrips) {
  RelationBatch b;
  b.n = mpz_class("1000000000000000000000000000007");
  b.multiplier = 3;
  b.fb_size = 100;
  b.first_a = 5;
  b.num_a = 7;
  b.relations.push_back({mpz_class("-123456789012345678901"), {0, 1, 1, 5, 99}, 1});
  b.relations.push_back({mpz_class(0), {}, 1234567});
  const std::string bytes = b.Serialize();
  const auto parsed = RelationBatch::Parse(bytes);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->n, b.n);
  EXPECT_EQ(parsed->multiplier, 3u);
  EXPECT_EQ(parsed->fb_size, 100u);
  EXPECT_EQ(parsed->first_a, 5u);
  EXPECT_EQ(parsed->num_a, 7u);
  ASSERT_EQ(parsed->relations.size(), 2u);
  EXPECT_EQ(parsed->relations[0].y, b.relations[0].y);
  EXPECT_EQ(parsed->relations[0].factors, b.relations[0].factors);
  EXPECT_EQ(parsed->relations[1].large_prime, 1234567u);
}

TEST(RelationBatch, RejectsCorruptInput) {
  RelationBatch b;
  b.n = 77;
  b.fb_size = 10;
  b.relations.push_back({mpz_class(9), {0, 3}, 1});
  const std::string bytes = b.Serialize();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(RelationBatch::Parse(bytes.substr(0, cut)).has_value()) << cut;
  }
  std::string wrong_version = bytes;
  wrong_version[4] = 9;
  EXPECT_FALSE(RelationBatch::Parse(wrong_version).has_value());
  std::string bad_index = bytes;
  bad_index[bad_index.size() - 1] = 0x7F;  // factor index beyond fb_size
  EXPECT_FALSE(RelationBatch::Parse(bad_index).has_value());
  EXPECT_FALSE(RelationBatch::Parse("").has_value());
  EXPECT_FALSE(RelationBatch::Parse(bytes + "x").has_value());
}

}  // namespace
}  // namespace zfactor::math::siqs
