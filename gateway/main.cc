// zfactor-gateway: the client-facing front of zfactor (gateway.h).
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "core/flags.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/zmq_util.h"
#include "gateway/gateway.h"

int main(int argc, char** argv) {
  namespace core = zfactor::core;
  using zfactor::gateway::Gateway;
  using zfactor::gateway::GatewayConfig;

  GatewayConfig config;
  std::string ready_file;
  int cache_max_entries = static_cast<int>(config.cache_max_entries);
  int max_digits = static_cast<int>(config.limits.max_digits);
  int max_batch = static_cast<int>(config.limits.max_batch);
  int inline_prime_digits = static_cast<int>(config.inline_prime_digits);
  int max_wait_ms = static_cast<int>(config.max_wait_ms);
  int max_client_jobs = static_cast<int>(config.max_client_jobs);
  int max_client_held = static_cast<int>(config.max_client_held);
  core::Flags flags(
      "zfactor-gateway [options]\n"
      "Serves the zfactor client protocol (docs/PROTOCOL.md) on --listen: answers from\n"
      "the result cache or inline when it can, otherwise submits jobs to the broker\n"
      "(--broker) and follows their results (--results). Endpoints may use port '*'.");
  flags.Define("listen", &config.listen, "ROUTER endpoint for clients");
  flags.Define("broker", &config.broker, "the broker's front endpoint");
  flags.Define("results", &config.results, "the broker's PUB endpoint");
  flags.Define("cache", &config.cache_path, "SQLite result cache file");
  flags.Define("cache-max-entries", &cache_max_entries, "results kept before LRU eviction");
  flags.Define("ready-file", &ready_file, "once bound, write listen= (and metrics=) here");
  flags.Define("metrics", &config.metrics, "serve Prometheus /metrics on HOST:PORT (empty: off)");
  flags.Define("max-digits", &max_digits, "longest number accepted, in digits");
  flags.Define("max-batch", &max_batch, "most numbers in one request");
  flags.Define("inline-factor-bits", &config.inline_factor_bits,
               "factor inline (in the gateway) when n < 2^this");
  flags.Define("inline-prime-digits", &inline_prime_digits,
               "isprime inline for numbers of at most this many digits");
  flags.Define("compute-threads", &config.compute_threads,
               "threads for the inline math (0: one per core)");
  flags.Define("max-wait-ms", &max_wait_ms, "cap on wait_ms and timeout_ms");
  flags.Define("heartbeat-ms", &config.heartbeat_ms, "broker heartbeat interval in ms");
  flags.Define("max-client-jobs", &max_client_jobs,
               "open jobs one client connection may have started; beyond: busy");
  flags.Define("max-client-held", &max_client_held,
               "requests one client connection may have in progress (waits); beyond: busy");
  flags.Define("reconcile-ms", &config.reconcile_ms,
               "submit an open job again after this long without word of it from the broker");
  auto parsed = flags.Parse(argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "zfactor-gateway: %s\n%s", parsed.error().message.c_str(),
                 flags.Help().c_str());
    return 2;
  }
  if (flags.help_requested()) return 0;
  if (cache_max_entries < 1 || max_digits < 1 || max_batch < 1 || inline_prime_digits < 0 ||
      max_wait_ms < 0 || config.heartbeat_ms < 1 || config.reconcile_ms < 1 ||
      max_client_jobs < 1 || max_client_held < 1 || config.inline_factor_bits < 0 ||
      config.compute_threads < 0) {
    std::fprintf(stderr,
                 "zfactor-gateway: --cache-max-entries, --max-digits, --max-batch, "
                 "--heartbeat-ms, --reconcile-ms and --max-client-* must be >= 1; the other "
                 "limits >= 0\n");
    return 2;
  }
  if (!flags.positional().empty()) {
    std::fprintf(stderr, "zfactor-gateway: unexpected argument '%s'\n",
                 flags.positional()[0].c_str());
    return 2;
  }
  config.cache_max_entries = static_cast<uint64_t>(cache_max_entries);
  config.limits.max_digits = static_cast<size_t>(max_digits);
  config.limits.max_batch = static_cast<size_t>(max_batch);
  config.inline_prime_digits = static_cast<size_t>(inline_prime_digits);
  config.max_wait_ms = static_cast<uint32_t>(max_wait_ms);
  config.max_client_jobs = static_cast<uint32_t>(max_client_jobs);
  config.max_client_held = static_cast<uint32_t>(max_client_held);

  core::InitLogging("gateway");
  core::InstallStopHandlers();

  auto gateway = Gateway::Create(config);
  if (!gateway.ok()) {
    ZF_LOG(kError) << "cannot start: " << gateway.error().message;
    return 1;
  }
  if (!ready_file.empty()) {
    std::vector<std::pair<std::string, std::string>> entries = {
        {"listen", gateway.value()->listen_endpoint()}};
    if (!gateway.value()->metrics_address().empty()) {
      entries.emplace_back("metrics", gateway.value()->metrics_address());
    }
    auto written = core::WriteReadyFile(ready_file, entries);
    if (!written.ok()) {
      ZF_LOG(kError) << written.error().message;
      return 1;
    }
  }
  gateway.value()->Run();
  return 0;
}
