// The one seed variable of every test: VMODEM_TEST_SEED, when set, replaces a
// test's own default seed for its random choices (samples of cut points,
// random walks, workloads). The seed used is printed, so a failure in a log
// replays with VMODEM_TEST_SEED=N.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace vmodem::testing {

inline std::uint64_t test_seed(std::uint64_t fallback) {
  const char* env = std::getenv("VMODEM_TEST_SEED");
  const std::uint64_t seed =
      env != nullptr && *env != '\0' ? std::strtoull(env, nullptr, 0) : fallback;
  std::printf("[ seed ] VMODEM_TEST_SEED=%llu\n", static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  return seed;
}

}  // namespace vmodem::testing
