#pragma once
// Everything the stages of `flowlier run` count, readable from the metrics thread at
// any time, and its Prometheus rendering.
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "app/InputSources.hpp"
#include "app/SinkBridge.hpp"
#include "pipeline/RejectReason.hpp"
#include "transport/LatencyHistogram.hpp"
#include "transport/ZmqCurve.hpp"
#include "transport/ZmqMonitor.hpp"

namespace flowlier::app {

// One scoring engine's gauges; the metrics are their sums.
struct ShardGauges {
  std::atomic<std::uint64_t> late{0};
  std::atomic<std::uint64_t> windows_closed{0};
  std::atomic<std::uint64_t> entities{0};
  std::atomic<std::uint64_t> evictions{0};
  // Messages sent into / taken out of this shard's hop: their difference is its depth.
  std::atomic<std::uint64_t> hop_sent{0};
  std::atomic<std::uint64_t> hop_taken{0};
};

struct RunMetrics {
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> records_received{0};
  std::atomic<std::uint64_t> records_scored{0};  // every record counted once, when its engines have it
  std::array<std::atomic<std::uint64_t>, pipeline::kRejectReasonCount> rejected{};
  std::atomic<std::uint64_t> skipdata{0};  // AWS SKIPDATA status records: the source lost records
  std::deque<ShardGauges> shards;          // one per engine in this process; sized before threads start
  std::array<std::atomic<std::uint64_t>, 5> events_firing{};  // by severity
  std::atomic<std::uint64_t> events_resolved{0};
  std::atomic<std::uint64_t> hwm_blocks{0};
  std::atomic<std::uint64_t> idle_advances{0};
  std::atomic<std::uint64_t> snapshots_written{0};
  std::atomic<std::uint64_t> snapshot_failures{0};
  std::atomic<std::uint64_t> published_sequence{0};
  std::atomic<std::uint64_t> pub_overflows{0};  // events that found a subscriber at its high-water mark
  std::atomic<std::uint64_t> events_hop_sent{0};
  std::atomic<std::uint64_t> events_hop_taken{0};
  SourceMetrics sources;
  std::atomic<bool> ready{false};
  const transport::ZapHandler* zap = nullptr;
  // The monitors of this process's bound tcp sockets, by config key (set before the threads start).
  std::vector<std::pair<std::string, const transport::SocketMonitor*>> monitors;
  std::atomic<const SinkBridge*> sinks{nullptr};  // set while the sinks are open
  // Per stage: a message's decode and routing (intake); a batch from its hand-over
  // by the intake to its engine having it (scoring: queue wait + windowing); a
  // window close to its events' publication (publish).
  transport::LatencyHistogram intake_latency;
  transport::LatencyHistogram scoring_latency;
  transport::LatencyHistogram publish_latency;
};

std::string render_metrics(const RunMetrics& metrics);

}  // namespace flowlier::app
