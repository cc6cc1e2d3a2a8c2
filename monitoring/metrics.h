// Prometheus metrics for one process: a registry, and (optionally) an HTTP
// exposer serving it at http://HOST:PORT/metrics for Prometheus to scrape.
// Metric names and meanings are listed in docs/METRICS.md.
#ifndef ZFACTOR_MONITORING_METRICS_H_
#define ZFACTOR_MONITORING_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "proto/error.h"

namespace prometheus {
class Exposer;
}

namespace zfactor::monitoring {

class Metrics {
 public:
  // `component` becomes the constant label component="..." on every metric.
  explicit Metrics(std::string component);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Starts serving /metrics on `address` ("127.0.0.1:9100", or ":0"-style
  // port 0 for an OS-picked port). An empty address serves nothing.
  proto::Status Serve(const std::string& address);
  // The "host:port" actually served, empty when not serving.
  std::string address() const { return address_; }

  // Families are created on first use and live as long as this object.
  prometheus::Counter& Counter(const std::string& name, const std::string& help,
                               const prometheus::Labels& labels = {});
  prometheus::Gauge& Gauge(const std::string& name, const std::string& help,
                           const prometheus::Labels& labels = {});
  // Latency-style histogram with exponential buckets from 1 ms to ~1 h.
  prometheus::Histogram& LatencyHistogram(const std::string& name, const std::string& help,
                                          const prometheus::Labels& labels = {});

  prometheus::Registry& registry() { return *registry_; }

 private:
  std::string component_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
};

}  // namespace zfactor::monitoring

#endif  // ZFACTOR_MONITORING_METRICS_H_
