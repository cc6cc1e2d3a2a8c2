// zfactor-broker: the job queue between gateways and workers (broker.h).
#include <cstdio>

#include "broker/broker.h"
#include "core/flags.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/zmq_util.h"

int main(int argc, char** argv) {
  using zfactor::broker::BrokerConfig;
  namespace core = zfactor::core;
  BrokerConfig config;
  std::string ready_file;
  core::Flags flags(
      "zfactor-broker [options]\n"
      "Queues jobs from gateways (--front), hands them to workers (--back) by credit,\n"
      "publishes results (--pub). Endpoints may use port '*'.");
  flags.Define("front", &config.front, "ROUTER endpoint for gateways");
  flags.Define("back", &config.back, "ROUTER endpoint for workers");
  flags.Define("pub", &config.pub, "PUB endpoint for the result stream");
  flags.Define("ready-file", &ready_file,
               "once bound, write front=, back=, pub= (and metrics=) here");
  flags.Define("metrics", &config.metrics, "serve Prometheus /metrics on HOST:PORT (empty: off)");
  flags.Define("journal", &config.journal, "SQLite file journaling accepted jobs (empty: off)");
  int journal_keep = static_cast<int>(config.journal_keep_finished);
  flags.Define("journal-keep-finished", &journal_keep,
               "ended jobs (with results) the journal keeps for re-publishing, newest first");
  flags.Define("heartbeat-ms", &config.heartbeat_ms, "heartbeat interval in ms");
  flags.Define("liveness", &config.liveness, "heartbeats missed before a worker is dead");
  flags.Define("max-queue", &config.max_queue, "queued jobs before submits are rejected busy");
  flags.Define("max-retries", &config.max_retries, "worker deaths after which a job fails");
  int progress_timeout_ms = static_cast<int>(config.progress_timeout_ms);
  flags.Define("progress-timeout-ms", &progress_timeout_ms,
               "a running job without progress for this long marks its worker hung (0: off)");
  flags.Define("reserve-slots", &config.reserve_slots,
               "worker slots large jobs may not take, kept for small and medium ones");
  auto parsed = flags.Parse(argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "zfactor-broker: %s\n%s", parsed.error().message.c_str(),
                 flags.Help().c_str());
    return 2;
  }
  if (flags.help_requested()) return 0;
  config.journal_keep_finished = journal_keep;
  config.progress_timeout_ms = progress_timeout_ms;
  core::InitLogging("broker");
  core::InstallStopHandlers();

  zfactor::broker::Broker broker(config);
  auto bound = broker.Bind();
  if (!bound.ok()) {
    ZF_LOG(kError) << bound.error().message;
    return 1;
  }
  if (!ready_file.empty()) {
    std::vector<std::pair<std::string, std::string>> entries = {{"front", broker.front_endpoint()},
                                                                {"back", broker.back_endpoint()},
                                                                {"pub", broker.pub_endpoint()}};
    if (!broker.metrics_address().empty())
      entries.emplace_back("metrics", broker.metrics_address());
    auto written = core::WriteReadyFile(ready_file, entries);
    if (!written.ok()) {
      ZF_LOG(kError) << written.error().message;
      return 1;
    }
  }
  broker.Run();
  return 0;
}
