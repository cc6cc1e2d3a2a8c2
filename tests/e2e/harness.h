// End-to-end harness: runs the real zfactor executables (from the build's
// bin/ directory) on loopback with OS-picked ports, each started after the
// previous one wrote its ready-file, and stops everything it started.
//
//   Service svc(scratch_dir);
//   ASSERT_TRUE(svc.Start(ServiceOptions{}));       // broker, gateway, workers
//   client::Client c(svc.ClientOptions());
#ifndef ZFACTOR_TESTS_E2E_HARNESS_H_
#define ZFACTOR_TESTS_E2E_HARNESS_H_

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "stack/child.h"

namespace zfactor::e2e {

// The directory holding zfactor-broker, -gateway, -worker, -stack and zfactor.
std::string BinDir();
// The source tree's root (for client/python and ../shared/numbers).
std::string SourceDir();
// True when every executable the tests run exists; otherwise names the first missing one.
bool HaveExecutables(std::string* missing);

// A fresh scratch directory, removed (with its files) on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ServiceOptions {
  int workers = 1;
  int worker_threads = 1;
  // Small so that isprime of a 39-digit number takes the queued path.
  int inline_prime_digits = 30;
  std::string cache_path;  // empty: <scratch>/cache.db
};

class Service {
 public:
  explicit Service(std::string scratch) : scratch_(std::move(scratch)) {}
  ~Service() { Stop(); }  // workers, gateway, broker: nothing is left running

  // Broker, then gateway, then the workers; waits until the broker reports
  // `workers` connected. False (with a gtest failure message) on any problem.
  bool Start(const ServiceOptions& options);
  bool StartBroker();
  bool StartGateway();
  bool StartWorker();
  void StopGateway();
  void Stop();

  // Polls stats until the service counts at least `n` workers.
  bool WaitForWorkers(int n, std::chrono::milliseconds timeout);

  const std::string& listen() const { return listen_; }
  client::ClientOptions ClientOptions() const;

 private:
  std::string scratch_;
  ServiceOptions options_;
  std::string front_, back_, pub_, listen_;
  std::unique_ptr<stack::Child> broker_, gateway_;
  std::vector<std::unique_ptr<stack::Child>> workers_;
  int gateway_starts_ = 0;
};

// Runs a shell command, returns its exit status and stdout.
int RunCommand(const std::string& command, std::string* output);

// Reads "name digits n p q" lines of ../shared/numbers/semiprimes.txt;
// false when `name` is not there.
bool LookupSemiprime(const std::string& name, std::string* n, std::string* p, std::string* q);

}  // namespace zfactor::e2e

#endif  // ZFACTOR_TESTS_E2E_HARNESS_H_
