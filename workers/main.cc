// zfactor-worker: runs jobs from a broker on N compute threads (worker.h).
#include <cstdio>

#include "core/flags.h"
#include "core/log.h"
#include "core/signals.h"
#include "core/zmq_util.h"
#include "workers/worker.h"

int main(int argc, char** argv) {
  namespace core = zfactor::core;
  zfactor::workers::WorkerConfig config;
  std::string ready_file;
  core::Flags flags(
      "zfactor-worker [options]\n"
      "Connects to a broker's back endpoint and factors the numbers it sends.");
  flags.Define("broker", &config.broker, "the broker's back endpoint");
  flags.Define("threads", &config.threads, "compute threads, i.e. jobs at once (0: all cores)");
  flags.Define("job-threads", &config.job_threads,
               "threads one job's ECM curves and SIQS sieving may use (so up to threads x "
               "job-threads cores)");
  flags.Define("name", &config.name, "name shown in the broker's logs (default host:pid)");
  flags.Define("metrics", &config.metrics, "serve Prometheus /metrics on HOST:PORT (empty: off)");
  flags.Define("heartbeat-ms", &config.heartbeat_ms, "heartbeat interval in ms");
  flags.Define("liveness", &config.liveness, "silent heartbeat intervals before reconnecting");
  flags.Define("ready-file", &ready_file, "once started, write broker= (and metrics=) here");
  auto parsed = flags.Parse(argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "zfactor-worker: %s\n%s", parsed.error().message.c_str(),
                 flags.Help().c_str());
    return 2;
  }
  if (flags.help_requested()) return 0;
  if (config.job_threads < 1 || config.job_threads > zfactor::workers::kMaxJobThreads) {
    std::fprintf(stderr, "zfactor-worker: --job-threads must be in [1, %d], got %d\n",
                 zfactor::workers::kMaxJobThreads, config.job_threads);
    return 2;
  }
  core::InitLogging("worker");
  core::InstallStopHandlers();

  zfactor::workers::Worker worker(config);
  auto started = worker.Start();
  if (!started.ok()) {
    ZF_LOG(kError) << started.error().message;
    return 1;
  }
  if (!ready_file.empty()) {
    std::vector<std::pair<std::string, std::string>> entries = {{"broker", config.broker}};
    if (!worker.metrics_address().empty())
      entries.emplace_back("metrics", worker.metrics_address());
    auto written = core::WriteReadyFile(ready_file, entries);
    if (!written.ok()) {
      ZF_LOG(kError) << written.error().message;
      return 1;
    }
  }
  worker.Run();
  return 0;
}
