#include "monitoring/metrics.h"

#include <prometheus/exposer.h>

#include <exception>

namespace zfactor::monitoring {

Metrics::Metrics(std::string component)
    : component_(std::move(component)), registry_(std::make_shared<prometheus::Registry>()) {}

Metrics::~Metrics() = default;

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
