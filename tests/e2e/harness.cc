#include "tests/e2e/harness.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace zfactor::e2e {

using std::chrono::milliseconds;

constexpr milliseconds kReadyTimeout{20000};
constexpr milliseconds kStopGrace{5000};

std::string BinDir() { return ZF_BIN_DIR; }
std::string SourceDir() { return ZF_SOURCE_DIR; }

bool HaveExecutables(std::string* missing) {
  for (const char* name :
       {"zfactor-broker", "zfactor-gateway", "zfactor-worker", "zfactor-stack", "zfactor"}) {
    const std::string path = BinDir() + "/" + name;
    if (access(path.c_str(), X_OK) != 0) {
      *missing = path;
      return false;
    }
  }
  return true;
}

ScratchDir::ScratchDir() {
  char dir[] = "/tmp/zfactor-e2e.XXXXXX";
  if (mkdtemp(dir) != nullptr) path_ = dir;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

namespace {

std::string Get(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

}  // namespace

bool Service::Start(const ServiceOptions& options) {
  options_ = options;
  if (options_.cache_path.empty()) options_.cache_path = scratch_ + "/cache.db";
  if (!StartBroker() || !StartGateway()) return false;
  for (int i = 0; i < options_.workers; ++i) {
    if (!StartWorker()) return false;
  }
  return options_.workers == 0 || WaitForWorkers(options_.workers, kReadyTimeout);
}

bool Service::StartBroker() {
  const std::string ready = scratch_ + "/broker.ready";
  broker_ = std::make_unique<stack::Child>(
      "broker",
      std::vector<std::string>{BinDir() + "/zfactor-broker", "--front", "tcp://127.0.0.1:*",
                               "--back", "tcp://127.0.0.1:*", "--pub", "tcp://127.0.0.1:*",
                               "--ready-file", ready},
      ready);
  if (!broker_->Start() || !broker_->WaitReady(kReadyTimeout)) {
    ADD_FAILURE() << "broker did not start: " << broker_->exit_status();
    return false;
  }
  auto values = stack::ReadReadyFile(ready);
  front_ = Get(*values, "front");
  back_ = Get(*values, "back");
  pub_ = Get(*values, "pub");
  if (front_.empty() || back_.empty() || pub_.empty()) {
    ADD_FAILURE() << "broker ready-file lacks front/back/pub";
    return false;
  }
  return true;
}

bool Service::StartGateway() {
  const std::string ready = scratch_ + "/gateway" + std::to_string(++gateway_starts_) + ".ready";
  gateway_ = std::make_unique<stack::Child>(
      "gateway",
      std::vector<std::string>{BinDir() + "/zfactor-gateway", "--listen", "tcp://127.0.0.1:*",
                               "--broker", front_, "--results", pub_, "--cache",
                               options_.cache_path, "--inline-prime-digits",
                               std::to_string(options_.inline_prime_digits), "--ready-file", ready},
      ready);
  if (!gateway_->Start() || !gateway_->WaitReady(kReadyTimeout)) {
    ADD_FAILURE() << "gateway did not start: " << gateway_->exit_status();
    return false;
  }
  listen_ = Get(*stack::ReadReadyFile(ready), "listen");
  if (listen_.empty()) {
    ADD_FAILURE() << "gateway ready-file lacks listen=";
    return false;
  }
  return true;
}

bool Service::StartWorker() {
  auto worker = std::make_unique<stack::Child>(
      "worker",
      std::vector<std::string>{BinDir() + "/zfactor-worker", "--broker", back_, "--threads",
                               std::to_string(options_.worker_threads), "--name",
                               "e2e-" + std::to_string(workers_.size() + 1)},
      "");
  if (!worker->Start()) {
    ADD_FAILURE() << "worker did not start: " << worker->exit_status();
    return false;
  }
  workers_.push_back(std::move(worker));
  return true;
}

void Service::StopGateway() {
  if (gateway_) gateway_->Stop(kStopGrace);
}

void Service::Stop() {
  for (auto& w : workers_) w->Stop(kStopGrace);
  workers_.clear();
  if (gateway_) gateway_->Stop(kStopGrace);
  if (broker_) broker_->Stop(kStopGrace);
}

bool Service::WaitForWorkers(int n, milliseconds timeout) {
  client::Client c(ClientOptions());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto stats = c.Stats();
    if (stats.ok()) {
      auto it = stats.value().find("workers");
      if (it != stats.value().end() && it->second >= n) return true;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  ADD_FAILURE() << "the service did not count " << n << " workers in time";
  return false;
}

client::ClientOptions Service::ClientOptions() const {
  client::ClientOptions o;
  o.endpoint = listen_;
  o.reply_timeout = milliseconds(10000);
  return o;
}

int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  std::size_t got;
  while ((got = fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, got);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool LookupSemiprime(const std::string& name, std::string* n, std::string* p, std::string* q) {
  std::ifstream in(SourceDir() + "/../shared/numbers/semiprimes.txt");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string tag, digits;
    if (fields >> tag >> digits >> *n >> *p >> *q && tag == name) return true;
  }
  return false;
}

}  // namespace zfactor::e2e
