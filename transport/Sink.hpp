#pragma once
// The interface every sink offers the app: push events, flush with a bounded wait,
// read counters. Implementations: DeliveryService (HTTP with spool), FileSink.
#include <chrono>
#include <cstdint>
#include <string>

#include "transport/SinkEvent.hpp"

namespace flowlier::transport {

// Books per sink: received = filtered + dropped + (delivered + dead_lettered + pending).
struct SinkCounters {
  std::uint64_t received = 0;       // pushed by the app
  std::uint64_t filtered = 0;       // below min_severity
  std::uint64_t delivered = 0;      // acknowledged by the receiver (or written)
  std::uint64_t retried = 0;        // requests retried (timeouts, 408, 429, 5xx, network)
  std::uint64_t dead_lettered = 0;  // permanently refused, written to dead-letter.jsonl
  std::uint64_t dropped = 0;        // spool full under drop_newest, or write errors
  std::uint64_t spool_events = 0;   // pending in the spool now
  std::uint64_t spool_bytes = 0;
  std::uint64_t torn_lines_cut = 0;  // file sink: a crash's cut-off last line removed on open
  bool config_error = false;  // last answer was 401/403/404: the operator must act
  std::string last_error;     // bounded text, never secrets
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual const std::string& id() const = 0;
  // Takes one event (filters by min_severity). May block under the spool's block policy.
  virtual void push(const SinkEvent& event) = 0;
  // The same, but never waits: false (and nothing counted) when the event would have
  // to wait for spool space under the block policy. SinkFeeder builds on it.
  virtual bool try_push(const SinkEvent& event) = 0;
  // Waits up to `timeout` for everything pushed so far to be delivered; true if so.
  virtual bool flush(std::chrono::milliseconds timeout) = 0;
  virtual SinkCounters counters() const = 0;
};

}  // namespace flowlier::transport
