// The fixture every end-to-end and fault test starts from: a scratch directory and an empty
// Cluster in it; everything the cluster started is killed before the
// directory is removed.
#ifndef ZFACTOR_TESTS_SUPPORT_CLUSTER_TEST_H_
#define ZFACTOR_TESTS_SUPPORT_CLUSTER_TEST_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/support/cluster.h"

namespace zfactor::support {

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // CMake builds the executables before this binary: a missing one is a
    // broken setup, not a reason to pass.
    const std::string missing = MissingExecutable();
    ASSERT_TRUE(missing.empty()) << "not built: " << missing;
    ASSERT_FALSE(scratch_.path().empty());
    cluster_ = std::make_unique<Cluster>(scratch_.path());
  }

  ScratchDir scratch_;
  std::unique_ptr<Cluster> cluster_;  // destroyed (processes killed) before scratch_
};

}  // namespace zfactor::support

#endif  // ZFACTOR_TESTS_SUPPORT_CLUSTER_TEST_H_
