// The zfactor gateway: serves the client protocol (docs/PROTOCOL.md section 2)
// on a ROUTER socket, answers from the result cache or inline when it can,
// and otherwise submits jobs to the broker (section 3) and follows their
// results on the broker's PUB stream (section 5).
//
//   GatewayConfig config;
//   config.listen = "tcp://127.0.0.1:*";
//   auto gateway = Gateway::Create(config);   // binds, connects, opens the cache
//   std::thread loop([&] { gateway.value()->Run(); });
//   ...
//   gateway.value()->Stop();  loop.join();
//
// One thread runs the loop (sockets, cache, jobs); the inline math runs on
// compute threads of its own (gateway/inline_pool.h). Everything but Stop()
// belongs to the loop's thread.
#ifndef ZFACTOR_GATEWAY_GATEWAY_H_
#define ZFACTOR_GATEWAY_GATEWAY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "proto/error.h"
#include "proto/messages.h"

namespace zfactor::gateway {

struct GatewayConfig {
  std::string listen = "tcp://*:5555";           // ROUTER for clients
  std::string broker = "tcp://127.0.0.1:5556";   // broker front (DEALER connects)
  std::string results = "tcp://127.0.0.1:5558";  // broker PUB (SUB connects)
  std::string cache_path = "./zfactor-cache.db";
  uint64_t cache_max_entries = 1000000;
  std::string metrics;                // "host:port" to serve /metrics on; empty serves nothing
  proto::Limits limits;               // max_digits, max_batch, body size
  int inline_factor_bits = 64;        // factor inline when n < 2^bits
  size_t inline_prime_digits = 1000;  // isprime inline up to this many digits (BPSW ~25 ms)
  uint32_t max_wait_ms = 600000;      // cap on wait_ms and timeout_ms
  int heartbeat_ms = 1000;            // broker heartbeat interval
  // Threads doing the inline math (the I/O thread never does): 0 means one
  // per core.
  int compute_threads = 0;
  // Inline work one request may do before its remaining small numbers are
  // queued as jobs instead, so one batch cannot hold the compute threads
  // from every other client.
  int inline_budget_ms = 50;
  // How long a stats request waits for the broker's stats_reply.
  int stats_timeout_ms = 1000;
  // An open job the broker has said nothing about for this long is submitted
  // again, so a result lost on the PUB stream (or while this gateway was
  // down) is recovered even when no client asks for the job again.
  int reconcile_ms = 10000;
  // Per client (ROUTER identity, i.e. per connection): jobs it started that
  // are still open, and requests held open (wait, wait_ms, cancel). Beyond
  // either, new ones get `busy` until some end, so one client's flood cannot
  // take the queue or the gateway's memory from the others.
  uint32_t max_client_jobs = 10000;
  uint32_t max_client_held = 1000;
};

class Gateway {
 public:
  // Opens the cache, binds the client socket, connects to the broker and its
  // PUB stream, serves metrics if asked. Errors: an unopenable cache, an
  // unbindable endpoint, a metrics address in use.
  static proto::StatusOr<std::unique_ptr<Gateway>> Create(const GatewayConfig& config);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Serves until Stop() is called or a stop signal arrives (core/signals.h).
  void Run();
  // Asks Run() to return soon. Thread-safe.
  void Stop() { stop_.store(true); }

  // The client endpoint actually bound, e.g. "tcp://127.0.0.1:41233".
  const std::string& listen_endpoint() const;
  // The metrics "host:port" served, empty when none.
  std::string metrics_address() const;

 private:
  class Impl;
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
};

// True when the canonical decimal `n` is below 2^bits. Exposed for tests.
bool BelowPowerOfTwo(const std::string& n, int bits);

}  // namespace zfactor::gateway

#endif  // ZFACTOR_GATEWAY_GATEWAY_H_
