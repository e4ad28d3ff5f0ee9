#include "service/RunStages.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <zmq_addon.hpp>

#include "core/TimeMath.hpp"
#include "service/LiveRejects.hpp"
#include "pipeline/InputFormat.hpp"
#include "pipeline/IntakeRouter.hpp"
#include "pipeline/RecordWire.hpp"
#include "pipeline/ShardStateFiles.hpp"
#include "transport/ZmqSockets.hpp"

namespace flowlier::service {
namespace {
using namespace flowlier::pipeline;
using Clock = std::chrono::steady_clock;

constexpr char kBatch = 'B';
constexpr char kAdvance = 'A';  // [A][close point, int64]: broadcast by the intake
constexpr char kEnd = 'E';

// The observations of one message bound for one in-process engine.
struct ShardBatch {
  std::vector<models::Observation> observations;
  // Records counted as scored once this batch is in: each record is counted in the
  // batch of its first observation's shard (shard 0 when it has none).
  std::uint64_t records = 0;
  Clock::time_point handed_over;
};

struct OutEvent {
  std::string topic;
  std::string json;
  Severity severity;
  bool firing;
  Clock::time_point closed;
  std::size_t shard;  // the engine's index in RunMetrics::shards
};

zmq::message_t pointer_frame(void* p) { return zmq::message_t(&p, sizeof p); }
template <typename T>
T* frame_pointer(const zmq::message_t& m) {
  void* p = nullptr;
  if (m.size() == sizeof p) std::memcpy(&p, m.data(), sizeof p);
  return static_cast<T*>(p);
}

bool send_marker(zmq::socket_t& socket, char kind, std::string_view payload, RunMetrics& metrics) {
  std::vector<zmq::message_t> parts;
  parts.emplace_back(&kind, 1);
  if (!payload.empty()) parts.emplace_back(payload.data(), payload.size());
  return transport::send_counted(socket, parts, metrics.hwm_blocks);
}

// The intake's outgoing side: per-shard buffers, flushed before every close point so
// each shard sees its data and the close points in stream order.
class ShardFanout {
 public:
  ShardFanout(std::vector<zmq::socket_t>& sockets, Hop hop, RunMetrics& metrics)
      : sockets_(sockets),
        hop_(hop),
        metrics_(metrics),
        batches_(sockets.size()),
        wire_(sockets.size()),
        wire_records_(sockets.size()) {}

  // The observations routed to a shard (to another process: ObservationWire bytes), and
  // which batch counts the record as scored.
  void add(std::size_t shard, const models::Observation& o) {
    if (hop_ == Hop::wire) return append_observation_wire(wire_[shard], o);
    batch(shard).observations.push_back(o);
  }
  void count_record(std::size_t shard) {
    if (hop_ == Hop::wire) return void(++wire_records_[shard]);
    ++batch(shard).records;
  }

  bool flush() {
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
      if (hop_ == Hop::wire) {
        if (wire_[i].empty() && wire_records_[i] == 0) continue;
        // [B][observations][records counted as scored there, uint64]
        std::vector<zmq::message_t> parts;
        parts.emplace_back(&kBatch, 1);
        parts.emplace_back(wire_[i].data(), wire_[i].size());
        parts.emplace_back(&wire_records_[i], sizeof wire_records_[i]);
        if (!transport::send_counted(sockets_[i], parts, metrics_.hwm_blocks)) return false;
        wire_[i].clear();
        wire_records_[i] = 0;
        continue;
      }
      if (!batches_[i]) continue;
      batches_[i]->handed_over = Clock::now();
      std::vector<zmq::message_t> parts;
      parts.emplace_back(&kBatch, 1);
      parts.push_back(pointer_frame(batches_[i].get()));
      if (!transport::send_counted(sockets_[i], parts, metrics_.hwm_blocks)) return false;
      batches_[i].release();  // the scoring stage owns it now
      metrics_.shards[i].hop_sent.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
  }

  bool advance(std::int64_t close_point) {
    if (!flush()) return false;
    for (auto& socket : sockets_) {
      if (!send_marker(socket, kAdvance,
                       std::string_view(reinterpret_cast<const char*>(&close_point), sizeof close_point), metrics_)) {
        return false;
      }
    }
    return true;
  }

  // In process only: the scoring stages stop after this.
  void end() {
    for (auto& socket : sockets_) send_marker(socket, kEnd, {}, metrics_);
  }

 private:
  ShardBatch& batch(std::size_t shard) {
    if (!batches_[shard]) batches_[shard] = std::make_unique<ShardBatch>();
    return *batches_[shard];
  }

  std::vector<zmq::socket_t>& sockets_;
  Hop hop_;
  RunMetrics& metrics_;
  std::vector<std::unique_ptr<ShardBatch>> batches_;
  std::vector<std::string> wire_;
  std::vector<std::uint64_t> wire_records_;
};

// Takes each decoded record straight from the decoder (no copy of the record):
// routes it to its shards and broadcasts the close points it causes. Rejects are
// only counted (the live path has no place to print every bad line).
class IntakeSink final : public DecodeSink {
 public:
  IntakeSink(IntakeRouter& router, ShardFanout& fanout, std::int64_t& broadcast, std::int64_t window_seconds,
             RunMetrics& metrics)
      : router_(router), fanout_(fanout), broadcast_(broadcast), window_(window_seconds), metrics_(metrics) {}

  void on_record(const FlowRecord& record) override {
    ++records_;
    if (record.status == LogStatus::skipdata) metrics_.skipdata.fetch_add(1, std::memory_order_relaxed);
    router_.route(record, observations_);
    // A record is late when its window closed before it came: the engines see the close
    // points in stream order, so they drop its observations (counted per observation).
    if (!observations_.empty() && WatermarkTracker::is_closed(observations_.front().time_s, window_, broadcast_)) {
      metrics_.late_records.fetch_add(1, std::memory_order_relaxed);
    }
    // Routed here only, also for scorers in other processes: they never route again.
    for (const auto& o : observations_) fanout_.add(router_.shard_of(o), o);
    fanout_.count_record(observations_.empty() ? 0 : router_.shard_of(observations_.front()));
    if (auto close_point = router_.observe(record)) advance(*close_point);
  }
  void on_reject(const Reject& reject) override {
    metrics_.rejected[static_cast<std::size_t>(reject.reason)].fetch_add(1, std::memory_order_relaxed);
    if (metrics_.reject_log) metrics_.reject_log->report(source_, reject);
  }
  // What the rejects file calls the input being decoded.
  void set_source(std::string source) { source_ = std::move(source); }

  // Close points only move forward; false once the context is gone (shutdown).
  bool advance(std::int64_t close_point) {
    if (close_point <= broadcast_) return ok_;
    broadcast_ = close_point;
    ok_ = ok_ && fanout_.advance(close_point);
    return ok_;
  }
  bool ok() const { return ok_; }
  std::uint64_t take_record_count() { return std::exchange(records_, 0); }

 private:
 private:
  IntakeRouter& router_;
  ShardFanout& fanout_;
  std::int64_t& broadcast_;
  std::int64_t window_;
  RunMetrics& metrics_;
  std::vector<models::Observation> observations_;
  std::uint64_t records_ = 0;
  bool ok_ = true;
  std::string source_;
};

// Receives one batch of records the --follow source decoded (RecordWire) into `sink`;
// false when nothing was there.
bool receive_records(zmq::socket_t& records, IntakeSink& sink, RunMetrics& metrics) {
  zmq::message_t message;
  if (!records.handle() || !records.recv(message, zmq::recv_flags::dontwait)) return false;
  metrics.messages_received.fetch_add(1, std::memory_order_relaxed);
  std::string_view in(static_cast<const char*>(message.data()), message.size());
  FlowRecord record;
  while (!in.empty()) {
    const std::size_t used = read_record_wire(in, record);
    if (used == 0) break;  // cannot happen: the batch was written in this process
    sink.on_record(record);
    in.remove_prefix(used);
  }
  metrics.records_received.fetch_add(sink.take_record_count(), std::memory_order_relaxed);
  return true;
}

// Receives one message (all its frames) and decodes it into `sink`; false when
// nothing was there. Each frame of a multipart message is an input of its own.
bool receive_message(zmq::socket_t& flows, const Config& config, const std::optional<InputFormat>& fixed,
                     IntakeSink& sink, RunMetrics& metrics) {
  zmq::message_t message;
  if (!flows.recv(message, zmq::recv_flags::dontwait)) return false;
  while (true) {
    const auto number = metrics.messages_received.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::string_view text(static_cast<const char*>(message.data()), message.size());
    const auto format = fixed ? fixed : detect_input_format(text.substr(0, 4096));
    if (metrics.reject_log) sink.set_source(fmt::format("flows_in message {}", number));
    if (!format) {
      metrics.rejected[static_cast<std::size_t>(RejectReason::unknown_format)].fetch_add(1);
      if (metrics.reject_log) metrics.reject_log->report_unknown_format(fmt::format("flows_in message {}", number), text);
    } else if (auto decoder = make_decoder(*format, config.decoder)) {
      decoder->feed(text, 1, sink);
      decoder->finish(sink);
    }
    if (flows.get(zmq::sockopt::rcvmore) == 0 || !flows.recv(message)) break;
  }
  metrics.records_received.fetch_add(sink.take_record_count(), std::memory_order_relaxed);
  return true;
}

// Named threads show up in top -H and in the live benchmark's per-stage CPU times.
void name_thread(const std::string& name) { pthread_setname_np(pthread_self(), name.substr(0, 15).c_str()); }

std::string topic_of(const AnomalyEvent& e) {
  if (e.status == EventStatus::resolved) return "resolved." + e.entity_kind;
  return fmt::format("anomaly.{}.{}", to_string(e.severity), e.entity_kind);
}

void count_event(RunMetrics& metrics, bool firing, Severity severity) {
  if (firing) {
    metrics.events_firing[static_cast<std::size_t>(severity)].fetch_add(1, std::memory_order_relaxed);
  } else {
    metrics.events_resolved.fetch_add(1, std::memory_order_relaxed);
  }
}
}  // namespace

void intake_stage(zmq::socket_t flows, zmq::socket_t follow_records, std::vector<zmq::socket_t>& shards, Hop hop,
                  const Config& config, IntakeRouter& router, const std::string& state_path, RunMetrics& metrics,
                  const std::atomic<bool>& stopping) {
  name_thread("fl-intake");
  std::optional<InputFormat> fixed;
  if (config.input_format != "auto") fixed = parse_input_format(config.input_format);
  const std::int64_t window = config.engine.windows.window_seconds;
  const std::int64_t lateness = config.engine.windows.allowed_lateness_seconds;
  const double idle_seconds = config.service.idle_seconds;
  const auto interval = std::chrono::seconds(std::max<std::int64_t>(1, config.state.snapshot_interval_seconds));
  auto next_snapshot = Clock::now() + interval;
  ShardFanout fanout(shards, hop, metrics);
  std::int64_t broadcast = router.watermark().close_point();
  IntakeSink sink(router, fanout, broadcast, window, metrics);
  auto last_record = Clock::now();
  bool seen_record = false;
  const auto snapshot = [&] {
    if (state_path.empty()) return;
    if (auto error = write_state_file(router, state_path); !error.empty()) {
      metrics.snapshot_failures.fetch_add(1);
      fmt::print(stderr, "run: snapshot failed: {}\n", error);
    }
  };

  const auto receive = [&] {
    const bool got = receive_message(flows, config, fixed, sink, metrics);
    return receive_records(follow_records, sink, metrics) || got;
  };
  while (!stopping.load()) {
    zmq::pollitem_t items[2] = {{flows.handle(), 0, ZMQ_POLLIN, 0}, {follow_records.handle(), 0, ZMQ_POLLIN, 0}};
    zmq::poll(items, follow_records.handle() ? 2 : 1, std::chrono::milliseconds(100));
    const bool ready = (items[0].revents | items[1].revents) & ZMQ_POLLIN;
    const auto now = Clock::now();
    if (now >= next_snapshot) {
      snapshot();
      next_snapshot = now + interval;
    }
    if (!ready) {
      // Idle watermark: with no records for idle_seconds of wall time, event time is
      // taken to advance with the wall clock from the newest record seen, and windows
      // close once that moved-on watermark (minus the allowed lateness) passes them.
      if (idle_seconds > 0 && seen_record && now - last_record >= std::chrono::duration<double>(idle_seconds)) {
        const auto idle = std::chrono::duration_cast<std::chrono::seconds>(now - last_record).count();
        const auto boundary = core::window_start(router.watermark().newest() + idle - lateness, window);
        if (boundary > broadcast) {
          metrics.idle_advances.fetch_add(1);
          if (!sink.advance(boundary)) return;
        }
      }
      continue;
    }
    if (!receive()) continue;
    if (!sink.ok() || !fanout.flush()) return;
    last_record = Clock::now();
    seen_record = true;
    metrics.intake_latency.observe(std::chrono::duration<double>(last_record - now).count());
  }
  // What the built-in sources handed over before they stopped is taken too: their
  // read positions already count it as read. Bounded, in case a peer keeps pushing.
  const auto drain_until = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < drain_until && receive()) {
    if (!sink.ok() || !fanout.flush()) return;
  }
  if (!fanout.flush()) return;
  snapshot();
  if (hop == Hop::inproc) fanout.end();
}

void scoring_stage(zmq::socket_t in, zmq::socket_t out, ScoringShard shard, const Config& config, Hop hop,
                   RunMetrics& metrics, const std::atomic<bool>& stopping) {
  Engine& engine = *shard.engine;
  name_thread(fmt::format("fl-score-{}", engine.config().shard_index));
  ShardGauges& gauges = *shard.gauges;
  const auto interval = std::chrono::seconds(std::max<std::int64_t>(1, config.state.snapshot_interval_seconds));
  auto next_snapshot = Clock::now() + interval;
  std::uint64_t forwarded = 0;  // events sent to the publish stage (in process)

  const auto forward = [&](Clock::time_point closed) -> bool {
    auto events = engine.take_events();
    if (events.empty()) return true;
    if (shard.journal != nullptr) {
      // Durable before it leaves: a kill -9 after this cannot orphan or re-open the
      // episodes these events belong to.
      EpisodeJournal::Entry entry{engine.last_close_point(), engine.take_episode_changes(), {}};
      for (const auto& e : events) entry.events.push_back(e.to_json());
      if (auto error = shard.journal->append(entry); !error.empty()) {
        metrics.journal_failures.fetch_add(1);
        fmt::print(stderr, "run: episode journal: {}\n", error);
      }
    }
    for (auto& e : events) {
      std::vector<zmq::message_t> parts;
      parts.emplace_back(&kBatch, 1);
      if (hop == Hop::wire) {
        parts.emplace_back(topic_of(e));
        parts.emplace_back(e.to_json());
        if (!transport::send_counted(out, parts, metrics.hwm_blocks)) return false;
        continue;
      }
      auto* item =
          new OutEvent{topic_of(e), e.to_json(), e.severity, e.status == EventStatus::firing, closed, shard.index};
      parts.push_back(pointer_frame(item));
      if (!transport::send_counted(out, parts, metrics.hwm_blocks)) {
        delete item;
        return false;
      }
      ++forwarded;
      metrics.events_hop_sent.fetch_add(1, std::memory_order_relaxed);
    }
    return true;
  };
  const auto update_gauges = [&] {
    const auto& ws = engine.window_stats();
    gauges.late.store(ws.late);
    gauges.windows_closed.store(ws.windows_closed);
    gauges.self_corrections.store(engine.stats().self_corrections);
    gauges.other_shard.store(engine.stats().other_shard);
    gauges.observations.store(ws.observations);
    gauges.evictions.store(ws.evicted_idle + ws.evicted_full);
    if (ws.dropped_table_full > gauges.dropped_table_full.load()) {
      metrics.last_refusal_ms.store(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count());
    }
    gauges.dropped_table_full.store(ws.dropped_table_full);
    gauges.entities.store(engine.entity_count());
  };
  // Every forwarded event is in PUB and the sinks' spools or backlogs.
  const auto published = [&] { return gauges.events_durable.load() >= forwarded; };
  const auto snapshot = [&] {
    if (shard.state_path.empty()) return;
    if (auto error = write_state_file(engine, shard.state_path); !error.empty()) {
      metrics.snapshot_failures.fetch_add(1);
      fmt::print(stderr, "run: snapshot failed: {}\n", error);
      return;
    }
    metrics.snapshots_written.fetch_add(1);
    // The snapshot holds these episodes now, and the sinks hold these events.
    if (shard.journal != nullptr && published()) {
      if (auto error = shard.journal->clear(); !error.empty()) fmt::print(stderr, "run: episode journal: {}\n", error);
    }
  };

  while (true) {
    zmq::pollitem_t item{in.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (shard.queries != nullptr) shard.queries->serve(engine);
    const auto now = Clock::now();
    if (item.revents & ZMQ_POLLIN) {
      std::vector<zmq::message_t> parts;
      // From another process: check the shape before reading anything.
      if (!zmq::recv_multipart(in, std::back_inserter(parts)) || parts.empty() || parts[0].size() != 1) continue;
      const char kind = *static_cast<const char*>(parts[0].data());
      if (kind == kEnd && hop == Hop::inproc) break;
      if (kind == kAdvance && parts.size() == 2 && parts[1].size() == sizeof(std::int64_t)) {
        std::int64_t close_point = 0;
        std::memcpy(&close_point, parts[1].data(), sizeof close_point);
        const auto before = Clock::now();
        engine.advance(close_point);
        if (!forward(before)) return;
      } else if (kind == kBatch && parts.size() == 3 && hop == Hop::wire &&
                 parts[2].size() == sizeof(std::uint64_t)) {
        // Observations the intake routed: this scorer never routes (it could not learn
        // which address is local from its shard's records alone).
        std::string_view rest(static_cast<const char*>(parts[1].data()), parts[1].size());
        models::Observation o;
        while (!rest.empty()) {
          const std::size_t used = read_observation_wire(rest, o);
          if (used == 0) {
            metrics.rejected[static_cast<std::size_t>(RejectReason::bad_encoding)].fetch_add(1);
            break;
          }
          rest.remove_prefix(used);
          engine.ingest(o);
        }
        std::uint64_t records = 0;
        std::memcpy(&records, parts[2].data(), sizeof records);
        metrics.records_scored.fetch_add(records, std::memory_order_relaxed);
      } else if (kind == kBatch && parts.size() == 2) {
        std::unique_ptr<ShardBatch> batch(frame_pointer<ShardBatch>(parts[1]));
        if (!batch) continue;
        gauges.hop_taken.fetch_add(1, std::memory_order_relaxed);
        for (const auto& o : batch->observations) engine.ingest(o);
        metrics.records_scored.fetch_add(batch->records, std::memory_order_relaxed);
        metrics.scoring_latency.observe(std::chrono::duration<double>(Clock::now() - batch->handed_over).count());
      }
      update_gauges();
    } else if (hop == Hop::wire && stopping.load()) {
      break;  // drained
    }
    // With a journal, a snapshot waits (a few milliseconds: the publish stage never
    // waits for sinks) until the events it covers are published, so the journal is
    // only emptied of events that are safe elsewhere.
    if (now >= next_snapshot && (shard.journal == nullptr || published())) {
      snapshot();
      next_snapshot = now + interval;
    }
  }
  if (shard.queries != nullptr) shard.queries->close();
  // Shutdown: nothing is flushed (open windows stay open in the snapshot, so a
  // restart continues them).
  forward(Clock::now());
  update_gauges();
  if (shard.journal != nullptr) {
    // The publish stage is still running: give it a moment to catch up, so the journal
    // can be emptied; if not, it stays and the next start hands its events on again.
    const auto give_up = Clock::now() + std::chrono::seconds(5);
    while (!published() && Clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  snapshot();
  if (hop == Hop::inproc) send_marker(out, kEnd, {}, metrics);
}

void publish_stage(zmq::socket_t in, transport::ZmqPublisher& publisher, SinkBridge& sinks, Hop hop,
                   std::size_t upstream, RunMetrics& metrics, const std::atomic<bool>& stopping) {
  name_thread("fl-publish");
  std::size_t ended = 0;
  while (true) {
    zmq::pollitem_t item{in.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (!(item.revents & ZMQ_POLLIN)) {
      if (hop == Hop::wire && stopping.load()) return;
      continue;
    }
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(in, std::back_inserter(parts))) continue;
    if (parts.empty() || parts[0].size() != 1) continue;
    const char kind = *static_cast<const char*>(parts[0].data());
    if (hop == Hop::wire) {
      // From the scorers over tcp: [B][topic][json]; only a signal stops this stage.
      if (parts.size() != 3 || kind != kBatch) continue;
      const auto topic = parts[1].to_string_view();
      metrics.published_sequence.store(publisher.publish(topic, parts[2].to_string_view()));
      metrics.pub_overflows.store(publisher.overflows());
      sinks.publish_json(parts[2].to_string_view());
      if (topic.starts_with("resolved.")) {
        count_event(metrics, false, Severity::info);
      } else if (const auto dot = topic.find('.', 8); dot != std::string_view::npos) {
        if (auto severity = parse_severity(topic.substr(8, dot - 8))) count_event(metrics, true, *severity);
      }
      continue;
    }
    if (kind == kEnd) {
      if (++ended == upstream) return;  // every scoring stage drained
      continue;
    }
    std::unique_ptr<OutEvent> event(parts.size() > 1 ? frame_pointer<OutEvent>(parts[1]) : nullptr);
    if (!event) continue;
    metrics.events_hop_taken.fetch_add(1, std::memory_order_relaxed);
    metrics.published_sequence.store(publisher.publish(event->topic, event->json));
    metrics.pub_overflows.store(publisher.overflows());
    sinks.publish_json(event->json);
    metrics.publish_latency.observe(std::chrono::duration<double>(Clock::now() - event->closed).count());
    count_event(metrics, event->firing, event->severity);
    if (event->shard < metrics.shards.size()) metrics.shards[event->shard].events_durable.fetch_add(1);
  }
}

}  // namespace flowlier::service
