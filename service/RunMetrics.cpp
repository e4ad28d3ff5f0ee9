#include "service/RunMetrics.hpp"

#include <chrono>

#include "pipeline/AnomalyEvent.hpp"
#include "transport/ProcessMemory.hpp"
#include "transport/PrometheusText.hpp"

namespace flowlier::service {
using namespace flowlier::pipeline;

bool RunMetrics::entity_limit_reached() const {
  const std::int64_t last = last_refusal_ms.load();
  if (last == 0) return false;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch()).count();
  return now - last < 60'000;
}

void render_sink_metrics(transport::PrometheusText& t, const SinkBridge& bridge) {
  if (bridge.empty()) return;
  const auto status = bridge.status();
  const auto family = [&status](auto field) {
    std::vector<std::pair<std::string, double>> out;
    for (const auto& s : status) out.emplace_back(s.id, static_cast<double>(field(s)));
    return out;
  };
  using S = SinkBridge::Status;
  t.gauge_family("flowlier_sink_spool_bytes", "Bytes pending in the sink's disk spool.", "sink",
                 family([](const S& s) { return s.counters.spool_bytes; }));
  t.gauge_family("flowlier_sink_spool_max_bytes", "The sink's spool bound (spool_max_bytes).", "sink",
                 family([](const S& s) { return s.spool_max_bytes; }));
  t.gauge_family("flowlier_sink_spool_events", "Events pending in the sink's disk spool.", "sink",
                 family([](const S& s) { return s.counters.spool_events; }));
  t.counter_family("flowlier_sink_delivered_total", "Events the sink's receiver accepted.", "sink",
                   family([](const S& s) { return s.counters.delivered; }));
  t.counter_family("flowlier_sink_retried_total", "Requests the sink retried.", "sink",
                   family([](const S& s) { return s.counters.retried; }));
  t.counter_family("flowlier_sink_dropped_total", "Events the sink dropped (spool full, write errors).", "sink",
                   family([](const S& s) { return s.counters.dropped; }));
  t.gauge_family("flowlier_sink_backlog_events",
                 "Events waiting on disk for room in the sink's full spool (spool_full_policy block).", "sink",
                 family([](const S& s) { return s.backlog_events; }));
  t.counter_family("flowlier_sink_backlog_dropped_total",
                   "Events neither the sink's full spool nor its backlog on disk could take.", "sink",
                   family([](const S& s) { return s.backlog_dropped; }));
  t.counter_family("flowlier_sink_dead_lettered_total", "Events the receiver refused for good.", "sink",
                   family([](const S& s) { return s.counters.dead_lettered; }));
  t.gauge_family("flowlier_sink_config_error", "1 when the sink's receiver answered 401/403/404.", "sink",
                 family([](const S& s) { return s.counters.config_error ? 1u : 0u; }));
}

std::string render_metrics(const RunMetrics& m) {
  transport::PrometheusText t;
  m.registry.render(t);
  const auto v = [](const std::atomic<std::uint64_t>& a) { return static_cast<double>(a.load()); };
  std::vector<std::pair<std::string, double>> rejects;
  for (std::size_t i = 0; i < kRejectReasonCount; ++i) {
    rejects.emplace_back(std::string(to_string(static_cast<RejectReason>(i))), v(m.rejected[i]));
  }
  t.counter_family("flowlier_records_rejected_total", "Input lines or records rejected, by reason.", "reason",
                   rejects);
  const auto sum = [&m](std::atomic<std::uint64_t> ShardGauges::*field) {
    double total = 0;
    for (const auto& s : m.shards) total += static_cast<double>((s.*field).load());
    return total;
  };
  t.counter("flowlier_late_observations_total",
            "Entity observations dropped because their window had closed (a record names one or more entities).",
            sum(&ShardGauges::late));
  // One reason is live per process: the bound that set the cap.
  const double refused = sum(&ShardGauges::dropped_table_full);
  t.counter_family("flowlier_entities_refused_total",
                   "Observations of new entities refused because the entity table was at its cap with every "
                   "entity in an open window, by the bound that set the cap (max_memory, max_entities).",
                   "reason",
                   {{"max_memory", m.entity_limit_reason == "max_memory" ? refused : 0.0},
                    {"max_entities", m.entity_limit_reason == "max_memory" ? 0.0 : refused}});
  t.gauge("flowlier_entity_limit", "Entities the engines may track in all ([limits] max_memory or max_entities).",
          static_cast<double>(m.entity_limit));
  t.gauge("flowlier_entity_limit_reached", "1 while new entities were refused within the last minute.",
          m.entity_limit_reached() ? 1.0 : 0.0);
  t.counter("flowlier_windows_closed_total", "Entity windows closed and scored.", sum(&ShardGauges::windows_closed));
  t.counter("flowlier_baseline_self_corrections_total",
            "Entity-feature windows scored while a baseline's self-check widened its tail (it fired more often than "
            "its probabilities claimed).",
            sum(&ShardGauges::self_corrections));
  t.counter("flowlier_observations_total",
            "Entity observations the engines took (a record names one or more entities).",
            sum(&ShardGauges::observations));
  t.counter("flowlier_other_shard_observations_total",
            "Entity observations an engine dropped because another shard owns their entity (its routing disagreed "
            "with the intake's).",
            sum(&ShardGauges::other_shard));
  t.gauge("flowlier_entities", "Entities currently tracked.", sum(&ShardGauges::entities));
  t.counter("flowlier_evictions_total", "Entities evicted (idle or table full).", sum(&ShardGauges::evictions));
  t.gauge("flowlier_scoring_engines", "Scoring engines (entity shards) in this process.",
          static_cast<double>(m.shards.size()));
  std::vector<std::pair<std::string, double>> events;
  for (std::size_t i = 0; i < m.events_firing.size(); ++i) {
    events.emplace_back(to_string(static_cast<Severity>(i)), v(m.events_firing[i]));
  }
  t.counter_family("flowlier_events_total", "Firing anomaly events published, by severity.", "severity", events);
  t.counter("flowlier_resolved_events_total", "Resolution events published.", v(m.events_resolved));
  t.counter("flowlier_auth_failures_total", "CURVE clients refused by the ZAP allow-list.",
            m.zap ? static_cast<double>(m.zap->refused()) : 0.0);
  std::vector<std::pair<std::string, double>> handshakes, disconnects;
  for (std::size_t i = 0; i < transport::kHandshakeFailureCount; ++i) {
    const auto reason = static_cast<transport::HandshakeFailure>(i);
    double total = 0;
    for (const auto& [socket, monitor] : m.monitors) total += static_cast<double>(monitor->handshake_failures(reason));
    handshakes.emplace_back(std::string(transport::to_string(reason)), total);
  }
  for (const auto& [socket, monitor] : m.monitors) {
    disconnects.emplace_back(socket, static_cast<double>(monitor->disconnects()));
  }
  t.counter_family("flowlier_zmq_handshake_failures_total",
                   "ZeroMQ clients refused during the handshake on a bound tcp endpoint, by reason: "
                   "mechanism_mismatch (no CURVE), cryptographic (wrong server key), auth_refused (key not allowed).",
                   "reason", handshakes);
  if (!disconnects.empty()) {
    t.counter_family("flowlier_zmq_disconnects_total",
                     "Peers of a bound tcp endpoint disconnected, by config key: a peer closing, a failed handshake, "
                     "or a message over the size limit (its message is lost).",
                     "endpoint", disconnects);
  }
  std::vector<std::pair<std::string, double>> http;
  for (std::size_t i = 0; i < transport::kHttpRefusalCount; ++i) {
    const auto reason = static_cast<transport::HttpRefusal>(i);
    const transport::HttpIngestServer* server = m.sources.http_server.load();
    http.emplace_back(std::string(transport::to_string(reason)), server ? static_cast<double>(server->refused(reason)) : 0.0);
  }
  t.counter_family("flowlier_http_refused_total",
                   "HTTP source requests refused (no 2xx) or dropped, by reason.", "reason", http);
  // Taken is read before sent, so a message in flight can only make the depth larger.
  const auto depth = [](const std::atomic<std::uint64_t>& sent, const std::atomic<std::uint64_t>& taken) {
    const std::uint64_t t_ = taken.load();
    const std::uint64_t s_ = sent.load();
    return static_cast<double>(s_ > t_ ? s_ - t_ : 0);
  };
  double scoring_depth = 0;
  for (const auto& s : m.shards) scoring_depth += depth(s.hop_sent, s.hop_taken);
  t.gauge_family("flowlier_queue_depth", "Messages waiting in an internal hop, by the stage reading it.", "stage",
                 {{"scoring", scoring_depth}, {"publish", depth(m.events_hop_sent, m.events_hop_taken)}});
  t.counter_family("flowlier_source_inputs_total",
                   "Inputs (chunks of lines, HTTP bodies) forwarded to the intake by the built-in sources.", "source",
                   {{"file", v(m.sources.file_chunks)}, {"stdin", v(m.sources.stdin_chunks)},
                    {"http", v(m.sources.http_bodies)}});
  t.counter("flowlier_http_auth_failures_total", "HTTP source requests refused for a wrong or missing access key.",
            v(m.sources.http_auth_failures));
  t.counter("flowlier_http_bad_requests_total", "HTTP source requests refused as malformed (a body that does not decode: gzip, JSON, base64, encoding).",
            v(m.sources.http_bad_requests));
  t.counter("flowlier_file_rotations_total", "Followed files rotated (new inode) or truncated.",
            v(m.sources.file_rotations));
  t.counter("flowlier_gzip_files_total", "Gzip files read whole from followed directories.", v(m.sources.gzip_files));
  t.counter("flowlier_file_errors_total", "Followed files that could not be read (or corrupt gzip).",
            v(m.sources.file_errors));
  t.gauge("flowlier_follow_tree_skipped",
          "Files and directories under followed directories left out by the last poll: deeper than 32 levels, or "
          "beyond 100000 files.",
          v(m.sources.follow_tree_skipped));
  t.gauge("flowlier_follow_merge_held_records",
          "Records of followed files waiting in the time merge for a file not yet read to its end.",
          v(m.sources.follow_held));
  t.counter("flowlier_follow_merge_forced_total",
            "Records of followed files handed on before their time because the merge held its maximum (1048576).",
            v(m.sources.follow_forced));
  t.gauge("flowlier_process_resident_memory_bytes", "Resident set size of the process.",
          static_cast<double>(transport::resident_memory_bytes()));
  if (const SinkBridge* bridge = m.sinks.load(); bridge != nullptr) render_sink_metrics(t, *bridge);
  t.histogram_family("flowlier_stage_latency_seconds",
                     "Wall time spent per stage: intake (a message decoded and routed), scoring (a batch from its "
                     "hand-over to its engine having it), publish (a window close to its events' publication).",
                     "stage",
                     {{"intake", &m.intake_latency}, {"scoring", &m.scoring_latency}, {"publish", &m.publish_latency}});
  return t.text();
}

}  // namespace flowlier::service
