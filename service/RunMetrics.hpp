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

#include "service/InputSources.hpp"
#include "service/MetricRegistry.hpp"
#include "service/SinkBridge.hpp"
#include "pipeline/RejectReason.hpp"
#include "transport/LatencyHistogram.hpp"
#include "transport/PrometheusText.hpp"
#include "transport/ZmqCurve.hpp"
#include "transport/ZmqMonitor.hpp"

namespace flowlier::service {

class LiveRejects;  // service/LiveRejects.hpp

// One scoring engine's gauges; the metrics are their sums.
struct ShardGauges {
  std::atomic<std::uint64_t> late{0};  // observations (a record makes one per entity it names)
  std::atomic<std::uint64_t> windows_closed{0};
  std::atomic<std::uint64_t> self_corrections{0};
  std::atomic<std::uint64_t> observations{0};  // entity observations the engine took (its own shard)
  // Observations dropped because another shard owns their entity: the engine's router
  // disagreed with the intake's (0 while routing happens once, in the intake).
  std::atomic<std::uint64_t> other_shard{0};
  std::atomic<std::uint64_t> entities{0};
  std::atomic<std::uint64_t> evictions{0};
  std::atomic<std::uint64_t> dropped_table_full{0};  // observations of new entities refused: table full
  // Messages sent into / taken out of this shard's hop: their difference is its depth.
  std::atomic<std::uint64_t> hop_sent{0};
  std::atomic<std::uint64_t> hop_taken{0};
  // Events of this engine the publish stage has handed to PUB and the sinks: the
  // engine snapshots only when this caught up with what it forwarded (see RunStages).
  std::atomic<std::uint64_t> events_durable{0};
};

struct RunMetrics {
  using Value = MetricRegistry::Value;
  // First: the plain counters below register in it as they are constructed.
  MetricRegistry registry;
  Value messages_received{registry, "flowlier_messages_received_total", "Messages received on the flows-in socket."};
  Value records_received{registry, "flowlier_records_received_total", "Flow records decoded from received messages."};
  // Every record counted once, when its engines have it.
  Value records_scored{registry, "flowlier_records_scored_total", "Flow records handed to the scoring engine."};
  Value skipdata{registry, "flowlier_skipdata_records_total",
                 "SKIPDATA status records received: the flow log source lost records (data loss)."};
  Value late_records{registry, "flowlier_late_records_total",
                     "Flow records that arrived after their window had closed (not scored)."};
  Value hwm_blocks{registry, "flowlier_hwm_blocks_total", "Times an internal hop waited at its high-water mark."};
  Value idle_advances{registry, "flowlier_idle_advances_total",
                      "Window closes caused by the idle watermark timeout."};
  Value snapshots_written{registry, "flowlier_snapshots_written_total", "State snapshots written."};
  Value snapshot_failures{registry, "flowlier_snapshot_failures_total", "State snapshots that could not be written."};
  Value journal_failures{registry, "flowlier_journal_failures_total",
                         "Episode journal writes that failed: those events' episodes are not durable across a "
                         "kill -9."};
  Value pub_overflows{registry, "flowlier_pub_subscriber_overflows_total",
                      "Events that found a subscriber at its high-water mark: it misses them (and more until it "
                      "catches up; its sequence shows the gaps), the other subscribers still get them."};
  Value published_sequence{registry, "flowlier_published_sequence", "Sequence number of the last published event.",
                           MetricRegistry::Kind::gauge};
  std::array<std::atomic<std::uint64_t>, pipeline::kRejectReasonCount> rejected{};  // by reason (a family)
  LiveRejects* reject_log = nullptr;  // run --rejects: every reject written there too (set before the threads start)
  std::deque<ShardGauges> shards;          // one per engine in this process; sized before threads start
  std::array<std::atomic<std::uint64_t>, 5> events_firing{};  // by severity
  std::atomic<std::uint64_t> events_resolved{0};
  // Exported as flowlier_queue_depth{stage="publish"} (their difference).
  std::atomic<std::uint64_t> events_hop_sent{0};
  std::atomic<std::uint64_t> events_hop_taken{0};
  SourceMetrics sources;
  std::atomic<bool> ready{false};
  // The entity tables' cap (sum over engines) and which bound set it: "max_memory"
  // ([limits]) or "max_entities". Set before the threads start.
  std::uint64_t entity_limit = 0;
  std::string entity_limit_reason = "max_entities";
  // When an engine last refused a new entity (steady clock, ms; 0: never).
  std::atomic<std::int64_t> last_refusal_ms{0};
  // True while new entities were refused within the last minute.
  bool entity_limit_reached() const;
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
// The flowlier_sink_* families of every configured sink (none when there are none):
// also for `run` on Kafka, whose other metrics are its own.
void render_sink_metrics(transport::PrometheusText& text, const SinkBridge& sinks);

}  // namespace flowlier::service
