#include "monitoring/metrics.h"

#include <prometheus/exposer.h>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

namespace zfactor::monitoring {
namespace {

// Opens and closes one TCP connection to "host:port" ("[v6]:port" too; a
// wildcard host means this machine). Errors are ignored: it only knocks.
void Knock(const std::string& address) {
  const size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0" || host == "*") host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return;
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    (void)connect(fd, found->ai_addr, found->ai_addrlen);
    close(fd);
  }
  freeaddrinfo(found);
}

}  // namespace

Metrics::Metrics(std::string component)
    : component_(std::move(component)), registry_(std::make_shared<prometheus::Registry>()) {}

Metrics::~Metrics() {
  if (!exposer_) return;
  // The exposer's HTTP server (civetweb) checks its stop flag only when its
  // listening thread's poll returns, which it does every 2 s when idle: left
  // alone, stopping it costs every process up to 2 s at exit. A connection
  // to the port wakes that poll, so knock until the server is down.
  std::atomic<bool> stopped{false};
  std::thread knocker([&] {
    while (!stopped.load()) {
      Knock(address_);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  exposer_.reset();
  stopped = true;
  knocker.join();
}

proto::Status Metrics::Serve(const std::string& address) {
  if (address.empty()) return proto::Status::Ok();
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address);
    exposer_->RegisterCollectable(registry_);
    auto ports = exposer_->GetListeningPorts();
    std::string host = address.substr(0, address.rfind(':'));
    address_ = (host.empty() ? "127.0.0.1" : host) + ":" +
               std::to_string(ports.empty() ? 0 : ports.front());
    return proto::Status::Ok();
  } catch (const std::exception& e) {
    return proto::MakeError(proto::ErrorCode::kUnavailable,
                            "cannot serve metrics on " + address + ": " + e.what());
  }
}

prometheus::Counter& Metrics::Counter(const std::string& name, const std::string& help,
                                      const prometheus::Labels& labels) {
  return prometheus::BuildCounter()
      .Name(name)
      .Help(help)
      .Labels({{"component", component_}})
      .Register(*registry_)
      .Add(labels);
}

prometheus::Gauge& Metrics::Gauge(const std::string& name, const std::string& help,
                                  const prometheus::Labels& labels) {
  return prometheus::BuildGauge()
      .Name(name)
      .Help(help)
      .Labels({{"component", component_}})
      .Register(*registry_)
      .Add(labels);
}

prometheus::Histogram& Metrics::LatencyHistogram(const std::string& name, const std::string& help,
                                                 const prometheus::Labels& labels) {
  prometheus::Histogram::BucketBoundaries buckets;
  for (double b = 0.001; b < 5000; b *= 4) buckets.push_back(b);  // seconds: 1 ms .. 4194 s (70 min)
  return prometheus::BuildHistogram()
      .Name(name)
      .Help(help)
      .Labels({{"component", component_}})
      .Register(*registry_)
      .Add(labels, buckets);
}

}  // namespace zfactor::monitoring
