#include "tests/support/cluster.h"

#include <gmpxx.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

namespace zfactor::support {

using std::chrono::milliseconds;

std::string BinDir() { return ZF_BIN_DIR; }
std::string SourceDir() { return ZF_SOURCE_DIR; }

std::string MissingExecutable() {
  for (const char* name :
       {"zfactor-broker", "zfactor-gateway", "zfactor-worker", "zfactor-stack", "zfactor"}) {
    const std::string path = BinDir() + "/" + name;
    if (access(path.c_str(), X_OK) != 0) return path;
  }
  return "";
}

ScratchDir::ScratchDir() {
  char dir[] = "/tmp/zfactor-test.XXXXXX";
  if (mkdtemp(dir) != nullptr) path_ = dir;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

// ------------------------------------------------------------------ Proc

Proc::Proc(std::string name, std::vector<std::string> argv, std::string ready_file)
    : child_(std::move(name), std::move(argv), std::move(ready_file)) {}

bool Proc::Start(milliseconds timeout) {
  if (!child_.Start()) return false;
  if (child_.ready_file().empty()) return true;
  return child_.WaitReady(timeout);
}

void Proc::Kill() {
  if (!child_.running()) return;
  kill(-child_.pid(), SIGKILL);  // the child leads its own process group
  kill(child_.pid(), SIGKILL);
  child_.Stop(milliseconds(0));  // reaps
}

void Proc::Stop(milliseconds grace) {
  child_.Stop(grace);
}

bool Proc::Alive() { return child_.running() && !child_.Reap(); }

// ------------------------------------------------------------------ Cluster

namespace {

std::string Value(const std::string& ready_file, const std::string& key) {
  auto values = stack::ReadReadyFile(ready_file);
  if (!values) return "";
  auto it = values->find(key);
  return it == values->end() ? "" : it->second;
}

}  // namespace

Cluster::~Cluster() {
  for (auto& w : workers_) {
    if (w.proc) w.proc->Kill();
  }
  if (gateway_) gateway_->Kill();
  if (broker_) broker_->Kill();
}

bool Cluster::StartBroker(const std::vector<std::string>& extra) {
  broker_extra_ = extra;
  const bool again = !front_.empty();
  const std::string ready = Path("broker" + std::to_string(++starts_) + ".ready");
  std::vector<std::string> argv{BinDir() + "/zfactor-broker",
                                "--front",
                                again ? front_ : "tcp://127.0.0.1:*",
                                "--back",
                                again ? back_ : back_bind_,
                                "--pub",
                                again ? pub_ : "tcp://127.0.0.1:*",
                                "--heartbeat-ms",
                                std::to_string(kHeartbeatMs),
                                "--ready-file",
                                ready};
  argv.insert(argv.end(), extra.begin(), extra.end());
  broker_ = std::make_unique<Proc>("broker", argv, ready);
  if (!broker_->Start(kReadyTimeout)) {
    ADD_FAILURE() << "broker did not start: " << broker_->status();
    return false;
  }
  front_ = Value(ready, "front");
  back_ = Value(ready, "back");
  pub_ = Value(ready, "pub");
  if (front_.empty() || back_.empty() || pub_.empty()) {
    ADD_FAILURE() << "broker ready-file lacks front/back/pub";
    return false;
  }
  return true;
}

bool Cluster::RestartBroker() {
  if (broker_) broker_->Kill();
  return StartBroker(broker_extra_);
}

void Cluster::KillBroker() {
  if (broker_) broker_->Kill();
}

bool Cluster::StartGateway(const std::vector<std::string>& extra) {
  gateway_extra_ = extra;
  const std::string ready = Path("gateway" + std::to_string(++starts_) + ".ready");
  std::vector<std::string> argv{BinDir() + "/zfactor-gateway",
                                "--listen",
                                "tcp://127.0.0.1:*",
                                "--broker",
                                front_,
                                "--results",
                                pub_,
                                "--cache",
                                Path("cache.db"),
                                "--heartbeat-ms",
                                std::to_string(kHeartbeatMs),
                                "--ready-file",
                                ready};
  argv.insert(argv.end(), extra.begin(), extra.end());
  gateway_ = std::make_unique<Proc>("gateway", argv, ready);
  if (!gateway_->Start(kReadyTimeout)) {
    ADD_FAILURE() << "gateway did not start: " << gateway_->status();
    return false;
  }
  listen_ = Value(ready, "listen");
  if (listen_.empty()) {
    ADD_FAILURE() << "gateway ready-file lacks listen=";
    return false;
  }
  return true;
}

bool Cluster::RestartGateway() {
  if (gateway_) gateway_->Kill();
  return StartGateway(gateway_extra_);
}

void Cluster::StopGateway() {
  if (gateway_) gateway_->Stop(milliseconds(10000));
}

void Cluster::KillGateway() {
  if (gateway_) gateway_->Kill();
}

int Cluster::StartWorker(int threads, const std::vector<std::string>& prefix,
                         const std::string& back) {
  WorkerSlot slot;
  slot.argv = prefix;
  const std::vector<std::string> own{BinDir() + "/zfactor-worker",
                                     "--broker",
                                     back.empty() ? back_ : back,
                                     "--threads",
                                     std::to_string(threads),
                                     "--heartbeat-ms",
                                     std::to_string(kHeartbeatMs),
                                     "--name",
                                     "fault-" + std::to_string(workers_.size() + 1)};
  slot.argv.insert(slot.argv.end(), own.begin(), own.end());
  workers_.push_back(std::move(slot));
  const int index = static_cast<int>(workers_.size()) - 1;
  return RestartWorker(index) ? index : -1;
}

bool Cluster::RestartWorker(int index) {
  WorkerSlot& slot = workers_.at(static_cast<std::size_t>(index));
  if (slot.proc) slot.proc->Kill();
  slot.proc = std::make_unique<Proc>("worker", slot.argv, "");
  if (!slot.proc->Start(kReadyTimeout)) {
    ADD_FAILURE() << "worker did not start: " << slot.proc->status();
    return false;
  }
  return true;
}

void Cluster::KillWorker(int index) {
  WorkerSlot& slot = workers_.at(static_cast<std::size_t>(index));
  if (slot.proc) slot.proc->Kill();
}

bool Cluster::WorkerAlive(int index) {
  WorkerSlot& slot = workers_.at(static_cast<std::size_t>(index));
  return slot.proc && slot.proc->Alive();
}

bool Cluster::GatewayAlive() { return gateway_ && gateway_->Alive(); }
bool Cluster::BrokerAlive() { return broker_ && broker_->Alive(); }

bool Cluster::WaitForWorkers(int n, milliseconds timeout) {
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
  return false;
}

client::ClientOptions Cluster::ClientOptions() const {
  client::ClientOptions o;
  o.endpoint = listen_;
  o.reply_timeout = milliseconds(20000);
  return o;
}

// ------------------------------------------------------------------ checks

std::string VerifyFactorAnswer(const proto::Answer& a) {
  if (a.state != proto::JobState::kDone) return "state is " + std::string(proto::JobStateName(a.state));
  if (!a.result) return "done without a result";
  if (a.result->status != "FF") return "status " + a.result->status + ", not FF";
  mpz_class n, product = 1;
  if (n.set_str(a.n, 10) != 0) return "n is not decimal: " + a.n;
  for (const proto::Factor& f : a.result->factors) {
    mpz_class p;
    if (p.set_str(f.p, 10) != 0) return "factor is not decimal: " + f.p;
    if (f.e < 1) return "exponent 0 for " + f.p;
    if (f.status != "P" && f.status != "PRP") return "factor " + f.p + " marked " + f.status;
    if (mpz_probab_prime_p(p.get_mpz_t(), 30) == 0) return "factor " + f.p + " is composite";
    mpz_class power;
    mpz_pow_ui(power.get_mpz_t(), p.get_mpz_t(), f.e);
    product *= power;
  }
  if (product != n) return "product " + product.get_str() + " != n " + a.n;
  return "";
}

std::string RandomSemiprime(unsigned long seed, int bits_p, int bits_q) {
  gmp_randclass rng(gmp_randinit_default);
  rng.seed(seed);
  auto prime = [&](int bits) {
    mpz_class x = rng.get_z_bits(static_cast<mp_bitcnt_t>(bits));
    mpz_setbit(x.get_mpz_t(), static_cast<mp_bitcnt_t>(bits - 1));
    mpz_nextprime(x.get_mpz_t(), x.get_mpz_t());
    return x;
  };
  const mpz_class p = prime(bits_p);
  const mpz_class q = prime(bits_q);
  return mpz_class(p * q).get_str();
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

}  // namespace zfactor::support
