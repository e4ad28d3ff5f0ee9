#pragma once
// Where pipeline and transport meet for sinks: converts pipeline::AnomalyEvent into
// transport::SinkEvent and fans each event out to every configured [[sinks]] entry.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/ConfigDocument.hpp"
#include "pipeline/AnomalyEvent.hpp"
#include "transport/Sink.hpp"
#include "transport/SinkFeeder.hpp"

namespace flowlier::service {

transport::SinkEvent to_sink_event(const pipeline::AnomalyEvent&);

class SinkBridge {
 public:
  // Reads [[sinks]] from the parsed config file and starts them (spools recovered,
  // senders running). An empty document or no [[sinks]] gives an empty bridge. Errors name the key
  // and line and hold no secrets. Sinks without a spool_dir spool under the state
  // directory (transport::default_spool_dir of `state_path`, the config's state.path).
  static std::unique_ptr<SinkBridge> open(const core::ConfigDocument& config, const std::string& state_path,
                                          std::string& error);

  bool empty() const { return sinks_.empty(); }
  // Each sink filters by its own min_severity. May block under a full spool's block policy.
  void publish(const pipeline::AnomalyEvent&);
  // The same for an event already serialized (the live publish stage, which may
  // receive events from other processes). Unreadable JSON is counted, not sent.
  // Never waits for a sink: one whose spool is full under the block policy gets the
  // event through its on-disk backlog (transport/SinkFeeder). When it returns, the
  // event is in each sink's spool or backlog (or counted as filtered or dropped).
  void publish_json(std::string_view json);
  std::uint64_t unreadable() const { return unreadable_; }
  // Per sink, for the metrics (the ids come from the config: a bounded label set).
  struct Status {
    std::string id;
    transport::SinkCounters counters;
    std::uint64_t spool_max_bytes = 0;
    std::uint64_t backlog_events = 0;   // waiting on disk for room in the spool
    std::uint64_t backlog_dropped = 0;  // neither spool nor backlog could take them
  };
  std::vector<Status> status() const;
  // The id of the first sink whose receiver refused it for its configuration (HTTP
  // 401/403/404, Kafka topic authorization or unknown topic), "" when none: /readyz.
  std::string misconfigured() const;
  // Waits up to `wait` for every sink to deliver, then prints one line of counters per
  // sink to `report`. True when every sink delivered everything.
  bool finish(std::FILE* report, std::chrono::milliseconds wait);

 private:
  std::vector<std::unique_ptr<transport::Sink>> sinks_;
  std::vector<std::uint64_t> spool_max_bytes_;  // parallel to sinks_
  std::vector<std::unique_ptr<transport::SinkFeeder>> feeders_;  // parallel to sinks_; destroyed first
  std::uint64_t unreadable_ = 0;
};

}  // namespace flowlier::service
