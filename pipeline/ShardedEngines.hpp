#pragma once
// An Intake (route, watermark, learned interfaces: IntakeRouter) feeding N Engines,
// each owning the entities whose incident hash falls in its shard and receiving only
// their observations plus every close point: what `flowlier replay --threads N` runs.
// With one engine everything runs on the caller's thread; with N > 1 the intake has a
// thread of its own (the caller decodes) and each engine one.
//
// The events equal one Engine's over the same records (ids, scores, set), and so does
// their order: the events of each close point (and of the final flush) are put in
// (window_end, entity kind, entity id, event id) order, whatever engine found them.
// States live in the files of ShardStateFiles.hpp, as the live service keeps them.
//
// Not thread-safe: one caller thread drives it. The engines' threads run the window
// observer and nothing else of the caller's.
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/Engine.hpp"
#include "pipeline/IntakeRouter.hpp"

namespace flowlier::pipeline {

class ShardedEngines {
 public:
  // `count` engines (at least one) with `config` as their shard of `count`.
  ShardedEngines(const EngineConfig& config, std::uint32_t count);
  ~ShardedEngines();
  ShardedEngines(const ShardedEngines&) = delete;
  ShardedEngines& operator=(const ShardedEngines&) = delete;

  std::uint32_t count() const { return static_cast<std::uint32_t>(engines_.size()); }
  // Set before the first record; called on the engines' threads, concurrently when count() > 1.
  void set_window_observer(const Engine::WindowObserver& observer);
  // [[rules]]: one rule set shared by every engine (it is thread-safe).
  void set_rules(const std::shared_ptr<RuleBook>& rules);

  void process(const FlowRecord& record);
  // End of input: closes every open window (Engine::flush on each).
  void flush();
  // The events of every close point all engines have passed, in the order above.
  std::vector<AnomalyEvent> take_events();

  // Before the first record: the states at `path` (written by save() or the live
  // service with as many engines). "" or why not; `note` says what was ignored.
  std::string restore(const std::string& path, std::string& note);
  // Waits for the engines, then writes their states and the intake's.
  std::string save(const std::string& path);

  // Totals over the engines, once they have finished what they were handed (sync()).
  void sync();
  EngineStats stats() const;
  models::WindowerStats window_stats() const;
  std::size_t entity_count() const;
  // Records whose window had closed when they came (counted by the intake).
  std::uint64_t late_records() const { return late_records_; }

 private:
  struct Batch;
  struct RecordBatch;
  struct EngineShard;
  class Worker;
  template <typename Item>
  class Pool;

  // The intake's work (on its own thread when count() > 1).
  void route(const FlowRecord& record);
  void run_intake(RecordBatch& batch);
  void hand_over(std::size_t shard);
  void hand_over_records();
  void broadcast(std::int64_t close_point, bool flush);
  // Moves the events of the steps every engine has passed to ready_.
  void collect();
  void wait_idle();

  IntakeRouter intake_;
  std::shared_ptr<PeerExchange> peer_exchange_;  // engines' peer tallies (count() > 1)
  std::int64_t last_broadcast_ = INT64_MIN;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::int64_t window_seconds_;
  std::vector<AnomalyEvent> ready_;
  // Owned by the intake (its thread when count() > 1):
  std::vector<models::Observation> routed_;
  std::vector<std::unique_ptr<Batch>> open_;  // per engine, being filled
  std::uint64_t steps_ = 0;                   // close points (and flushes) handed to the engines
  std::uint64_t late_records_ = 0;
  // count() > 1 only:
  std::unique_ptr<Pool<Batch>> batches_;
  std::unique_ptr<Pool<RecordBatch>> record_batches_;
  std::unique_ptr<RecordBatch> records_;  // the caller's, being filled
  std::deque<std::unique_ptr<RecordBatch>> intake_queue_;  // guarded by intake_thread_->mutex()
  std::vector<std::unique_ptr<EngineShard>> shards_;
  std::unique_ptr<Worker> intake_thread_;  // declared last: stopped first
};

}  // namespace flowlier::pipeline
