#include "pipeline/ShardedEngines.hpp"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "pipeline/ShardStateFiles.hpp"

namespace flowlier::pipeline {
namespace {
// A batch is handed on at this many records or observations (about a megabyte) or this
// many close points, whichever comes first; a few batches in flight per thread keep it
// busy without holding the input in memory while it falls behind.
constexpr std::size_t kBatchRecords = 1024;
constexpr std::size_t kBatchObservations = 2048;
constexpr std::size_t kBatchSteps = 64;
constexpr std::size_t kBatchesInFlight = 4;

// The order events leave in, whatever engine found them: a total order, since event ids
// are unique.
bool output_order(const AnomalyEvent& a, const AnomalyEvent& b) {
  return std::tie(a.window_end, a.entity_kind, a.entity_id, a.id) <
         std::tie(b.window_end, b.entity_kind, b.entity_id, b.id);
}

void add_into(models::WindowerStats& t, const models::WindowerStats& p) {
  t.observations += p.observations;
  t.late += p.late;
  t.dropped_table_full += p.dropped_table_full;
  t.evicted_idle += p.evicted_idle;
  t.evicted_full += p.evicted_full;
  t.windows_closed += p.windows_closed;
}

void add_into(EngineStats& t, const EngineStats& p) {
  t.records += p.records;
  t.status_records += p.status_records;
  t.observations += p.observations;
  t.other_shard += p.other_shard;
  t.events_firing += p.events_firing;
  t.events_resolved += p.events_resolved;
  for (std::size_t i = 0; i < std::size(t.events_by_severity); ++i) t.events_by_severity[i] += p.events_by_severity[i];
  t.self_corrections += p.self_corrections;
}
}  // namespace

// Batches emptied by their consumer, for the producer to fill again: their memory stays
// mapped and warm (a fresh megabyte per batch costs more in page faults than the copy).
template <typename Item>
class ShardedEngines::Pool {
 public:
  std::unique_ptr<Item> take() {
    std::lock_guard lock(mutex_);
    if (items_.empty()) return std::make_unique<Item>();
    auto item = std::move(items_.back());
    items_.pop_back();
    return item;
  }
  void give(std::unique_ptr<Item> item) {
    item->clear();
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(item));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Item>> items_;
};

// A thread that does `work` on each batch handed to it, in order. Handing over blocks
// while kBatchesInFlight wait; stopping drops what waits and finishes what it holds.
class ShardedEngines::Worker {
 public:
  Worker(std::string name, std::function<void()> work_one) : work_one_(std::move(work_one)) {
    thread_ = std::thread([this, name = std::move(name)] {
      // Named, so top -H and perf tell the stages apart.
      pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
      run();
    });
  }
  ~Worker() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  // `hand` queues one batch (it runs under the lock); blocks while the queue is full.
  void push(const std::function<void()>& hand) {
    {
      std::unique_lock lock(mutex_);
      progress_.wait(lock, [&] { return queued_ < kBatchesInFlight; });
      hand();
      ++queued_;
    }
    wake_.notify_one();
  }
  void wait_idle() {
    std::unique_lock lock(mutex_);
    progress_.wait(lock, [&] { return queued_ == 0 && !busy_; });
  }
  std::mutex& mutex() { return mutex_; }

 private:
  void run() {
    while (true) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || queued_ > 0; });
        if (stop_) return;
        --queued_;
        busy_ = true;
      }
      progress_.notify_all();
      work_one_();  // takes the oldest batch (under mutex()) and works on it
      {
        std::lock_guard lock(mutex_);
        busy_ = false;
      }
      progress_.notify_all();
    }
  }

  std::function<void()> work_one_;
  std::mutex mutex_;
  std::condition_variable wake_;      // work arrived, or stop
  std::condition_variable progress_;  // a batch was taken or finished
  std::size_t queued_ = 0;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

// One engine's share of the input since its last batch: observations, with the close
// points (or the final flush) to apply after the first `at` of them.
struct ShardedEngines::Batch {
  struct Step {
    std::size_t at;
    std::int64_t close_point;
    bool flush;
    std::uint64_t index;  // in the sequence of steps every engine sees
  };
  std::vector<models::Observation> observations;
  std::vector<Step> steps;
  Batch() { observations.reserve(kBatchObservations); }
  bool empty() const { return observations.empty() && steps.empty(); }
  void clear() {
    observations.clear();
    steps.clear();
  }
};

// What the caller hands the intake thread: decoded records, then what to do after them.
struct ShardedEngines::RecordBatch {
  enum class Then : std::uint8_t { nothing, hand_over, flush };
  std::vector<FlowRecord> records;
  Then then = Then::nothing;
  RecordBatch() { records.reserve(kBatchRecords); }
  void clear() {
    records.clear();
    then = Then::nothing;
  }
};

struct ShardedEngines::EngineShard {
  struct Result {
    std::uint64_t step;
    std::vector<AnomalyEvent> events;
  };
  Engine* engine = nullptr;
  Pool<Batch>* pool = nullptr;  // where worked batches go back
  std::deque<std::unique_ptr<Batch>> queue;  // guarded by worker->mutex()
  std::vector<Result> results;               // guarded by worker->mutex()
  std::uint64_t steps_done = 0;  // every step below this has its results in `results`
  std::unique_ptr<Worker> worker;

  void work_one() {
    std::unique_ptr<Batch> batch;
    {
      std::lock_guard lock(worker->mutex());
      batch = std::move(queue.front());
      queue.pop_front();
    }
    std::vector<Result> found;
    std::size_t next = 0;
    for (const auto& step : batch->steps) {
      for (; next < step.at; ++next) engine->ingest(batch->observations[next]);
      if (step.flush) engine->flush();
      else engine->advance(step.close_point);
      if (auto events = engine->take_events(); !events.empty()) found.push_back({step.index, std::move(events)});
    }
    for (; next < batch->observations.size(); ++next) engine->ingest(batch->observations[next]);
    {
      std::lock_guard lock(worker->mutex());
      for (auto& r : found) results.push_back(std::move(r));
      if (!batch->steps.empty()) steps_done = batch->steps.back().index + 1;
    }
    pool->give(std::move(batch));
  }
};

ShardedEngines::ShardedEngines(const EngineConfig& config, std::uint32_t count)
    : intake_(config, std::max<std::uint32_t>(1, count)), window_seconds_(config.windows.window_seconds) {
  count = std::max<std::uint32_t>(1, count);
  for (std::uint32_t k = 0; k < count; ++k) {
    EngineConfig shard = config;
    shard.shard_index = k;
    shard.shard_count = count;
    engines_.push_back(std::make_unique<Engine>(shard));
  }
  if (count == 1) return;
  // Each engine judges young addresses by the whole estate's peers, as one engine would.
  if (config.peers.enabled) {
    peer_exchange_ = std::make_shared<PeerExchange>(count);
    for (auto& engine : engines_) engine->set_peer_exchange(peer_exchange_);
  }
  batches_ = std::make_unique<Pool<Batch>>();
  record_batches_ = std::make_unique<Pool<RecordBatch>>();
  for (std::uint32_t k = 0; k < count; ++k) {
    auto shard = std::make_unique<EngineShard>();
    shard->engine = engines_[k].get();
    shard->pool = batches_.get();
    shard->worker = std::make_unique<Worker>(fmt::format("fl-engine-{}", k), [s = shard.get()] { s->work_one(); });
    shards_.push_back(std::move(shard));
    open_.push_back(batches_->take());
  }
  records_ = record_batches_->take();
  intake_thread_ = std::make_unique<Worker>("fl-intake", [this] {
    std::unique_ptr<RecordBatch> batch;
    {
      std::lock_guard lock(intake_thread_->mutex());
      batch = std::move(intake_queue_.front());
      intake_queue_.pop_front();
    }
    run_intake(*batch);
    record_batches_->give(std::move(batch));
  });
}

ShardedEngines::~ShardedEngines() {
  // An engine left waiting for peers that will not come (stopped mid-stream) is woken.
  if (peer_exchange_) peer_exchange_->cancel();
}

void ShardedEngines::set_window_observer(const Engine::WindowObserver& observer) {
  for (auto& engine : engines_) engine->set_window_observer(observer);
}

void ShardedEngines::set_rules(const std::shared_ptr<RuleBook>& rules) {
  for (auto& engine : engines_) engine->set_rules(rules);
}

void ShardedEngines::process(const FlowRecord& record) {
  if (shards_.empty()) return route(record);
  records_->records.push_back(record);
  if (records_->records.size() >= kBatchRecords) hand_over_records();
}

void ShardedEngines::hand_over_records() {
  intake_thread_->push([&] { intake_queue_.push_back(std::move(records_)); });
  records_ = record_batches_->take();
}

void ShardedEngines::run_intake(RecordBatch& batch) {
  for (const auto& record : batch.records) route(record);
  if (batch.then == RecordBatch::Then::flush) broadcast(0, true);
  if (batch.then != RecordBatch::Then::nothing) {
    for (std::size_t k = 0; k < open_.size(); ++k) hand_over(k);
  }
}

void ShardedEngines::route(const FlowRecord& record) {
  intake_.route(record, routed_);
  // Late: its window closed before it came (the engines drop its observations, counted).
  if (!routed_.empty() &&
      WatermarkTracker::is_closed(routed_.front().time_s, window_seconds_, intake_.watermark().close_point())) {
    ++late_records_;
  }
  if (shards_.empty()) {
    for (const auto& o : routed_) engines_[0]->ingest(o);
    if (auto close_point = intake_.observe(record)) broadcast(*close_point, false);
    return;
  }
  for (const auto& o : routed_) {
    const std::uint32_t shard = intake_.shard_of(o);
    open_[shard]->observations.push_back(o);
    if (open_[shard]->observations.size() >= kBatchObservations) hand_over(shard);
  }
  if (auto close_point = intake_.observe(record)) broadcast(*close_point, false);
}

void ShardedEngines::broadcast(std::int64_t close_point, bool flush) {
  if (shards_.empty()) {
    Engine& engine = *engines_[0];
    if (flush) engine.flush();
    else engine.advance(close_point);
    auto events = engine.take_events();
    std::stable_sort(events.begin(), events.end(), output_order);
    ready_.insert(ready_.end(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
    return;
  }
  // A close point that begins a peer epoch makes every engine wait for the others'
  // tallies: each must have it now, not when its batch fills (or one waits for a batch
  // stuck behind the intake, which waits for the first).
  const auto& peers = engines_[0]->config().peers;
  const bool exchange = peer_exchange_ && !flush && last_broadcast_ != INT64_MIN &&
                        peers.epoch_of(close_point) > peers.epoch_of(last_broadcast_);
  if (!flush) last_broadcast_ = close_point;
  for (std::size_t k = 0; k < open_.size(); ++k) {
    open_[k]->steps.push_back({open_[k]->observations.size(), close_point, flush, steps_});
    if (exchange || open_[k]->steps.size() >= kBatchSteps) hand_over(k);
  }
  ++steps_;
}

void ShardedEngines::hand_over(std::size_t k) {
  if (open_[k]->empty()) return;
  EngineShard& shard = *shards_[k];
  shard.worker->push([&] { shard.queue.push_back(std::move(open_[k])); });
  open_[k] = batches_->take();
}

void ShardedEngines::collect() {
  std::uint64_t complete = UINT64_MAX;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->worker->mutex());
    complete = std::min(complete, shard->steps_done);
  }
  // Every engine has passed the steps below `complete`: their events are all in.
  std::vector<std::pair<std::uint64_t, AnomalyEvent>> taken;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->worker->mutex());
    auto& results = shard->results;
    std::size_t used = 0;
    for (; used < results.size() && results[used].step < complete; ++used) {
      for (auto& e : results[used].events) taken.emplace_back(results[used].step, std::move(e));
    }
    results.erase(results.begin(), results.begin() + static_cast<std::ptrdiff_t>(used));
  }
  std::stable_sort(taken.begin(), taken.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return output_order(a.second, b.second);
  });
  for (auto& [step, e] : taken) ready_.push_back(std::move(e));
}

void ShardedEngines::wait_idle() {
  intake_thread_->wait_idle();
  for (auto& shard : shards_) shard->worker->wait_idle();
}

void ShardedEngines::flush() {
  if (shards_.empty()) return broadcast(0, true);
  records_->then = RecordBatch::Then::flush;
  hand_over_records();
  wait_idle();
  collect();
}

void ShardedEngines::sync() {
  if (shards_.empty()) return;
  records_->then = RecordBatch::Then::hand_over;
  hand_over_records();
  wait_idle();
  collect();
}

std::vector<AnomalyEvent> ShardedEngines::take_events() {
  if (!shards_.empty()) collect();
  std::vector<AnomalyEvent> out;
  out.swap(ready_);
  return out;
}

std::string ShardedEngines::restore(const std::string& path, std::string& note) {
  bool restored = false;
  for (std::uint32_t k = 0; k < count(); ++k) {
    const std::string file = shard_state_path(path, k, count());
    if (!std::filesystem::exists(file)) return fmt::format("{}: missing (the states there are incomplete)", file);
    if (auto error = read_state_file(*engines_[k], file); !error.empty()) return fmt::format("{}: {}", file, error);
    restored = true;
  }
  const std::string intake_file = intake_state_path(path);
  if (restored && !std::filesystem::exists(intake_file)) {
    note = fmt::format("no {}: the intake starts without learnt interfaces", intake_file);
  }
  if (auto error = restore_intake(intake_, intake_file, engines_, restored, note); !error.empty()) {
    return fmt::format("{}: {}", intake_file, error);
  }
  if (restored) last_broadcast_ = engines_[0]->last_close_point();
  return {};
}

std::string ShardedEngines::save(const std::string& path) {
  sync();
  for (std::uint32_t k = 0; k < count(); ++k) {
    if (auto error = write_state_file(*engines_[k], shard_state_path(path, k, count())); !error.empty()) return error;
  }
  return write_state_file(intake_, intake_state_path(path));
}

EngineStats ShardedEngines::stats() const {
  EngineStats total;
  for (const auto& engine : engines_) add_into(total, engine->stats());
  return total;
}

models::WindowerStats ShardedEngines::window_stats() const {
  models::WindowerStats total;
  for (const auto& engine : engines_) add_into(total, engine->window_stats());
  return total;
}

std::size_t ShardedEngines::entity_count() const {
  std::size_t total = 0;
  for (const auto& engine : engines_) total += engine->entity_count();
  return total;
}

}  // namespace flowlier::pipeline
