#pragma once
// Routes observations into event-time tumbling windows per entity and closes windows
// on the watermark (newest event time seen minus the allowed lateness). Owns the
// bounded entity table: at most max_entities, idle ones expire after idle_ttl, and
// when full the least recently seen idle entity is evicted.
//
// Deterministic: windows close in time order and, within a window, in entity-key
// order, so replay and live runs fed the same records produce the same sequence.
// Not thread-safe; one Windower per scorer shard.
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/StateIo.hpp"
#include "models/EntityKey.hpp"
#include "models/Observation.hpp"
#include "models/SeenHistory.hpp"
#include "models/SlotIndex.hpp"
#include "models/WindowAccumulator.hpp"

namespace flowlier::models {

struct WindowerConfig {
  std::int64_t window_seconds = 60;
  std::int64_t allowed_lateness_seconds = 120;
  std::size_t max_entities = 1'000'000;
  std::int64_t idle_ttl_seconds = 7 * 86400;
};

struct WindowerStats {
  std::uint64_t observations = 0;
  std::uint64_t late = 0;                // arrived after their window closed
  std::uint64_t dropped_table_full = 0;  // new entity while every entity was busy
  std::uint64_t evicted_idle = 0;        // expired after idle_ttl
  std::uint64_t evicted_full = 0;        // evicted to make room
  std::uint64_t windows_closed = 0;      // entity-windows closed
};

struct ClosedWindow {
  std::uint32_t slot;  // stable for the entity's life in the table
  const EntityKey& key;
  std::int64_t start;  // window start, Unix seconds
  std::int64_t end;
  const WindowAccumulator& accumulator;
};

class Windower {
 public:
  using CloseHandler = std::function<void(const ClosedWindow&)>;
  // Told when a slot is freed, so owners of per-slot state can reset it.
  using EvictHandler = std::function<void(std::uint32_t slot, const EntityKey& key)>;

  explicit Windower(WindowerConfig config);
  // Moves keep the open windows' nodes (and the slots' pointers to them); copies would not.
  Windower(const Windower&) = delete;
  Windower& operator=(const Windower&) = delete;
  Windower(Windower&&) = default;
  Windower& operator=(Windower&&) = default;

  void set_evict_handler(EvictHandler handler) { on_evict_ = std::move(handler); }

  // Adds one observation; returns false when it was late or could not be placed
  // (both counted). Call close_ready() afterwards to close what the watermark passed.
  bool ingest(const Observation& o) { return ingest(o, o.entity.hash()); }
  // The same with `key_hash` == o.entity.hash() already computed (the engine needs it
  // for sharding too).
  bool ingest(const Observation& o, std::uint64_t key_hash) {
    bool new_peer = false;
    return ingest_slot(o, key_hash, new_peer) != kNoSlot;
  }
  // The same, returning the entity's slot (kNoSlot when late or not placed) and
  // whether the observation was the entity's first contact with its peer.
  static constexpr std::uint32_t kNoSlot = 0xffffffffu;
  std::uint32_t ingest_slot(const Observation& o, std::uint64_t key_hash, bool& new_peer);

  // Closes every window that ends at or before the watermark.
  void close_ready(const CloseHandler& on_closed) { close_until(watermark(), on_closed); }
  // Closes every window ending at or before `time` (live idle timeout, end of input).
  void close_until(std::int64_t time, const CloseHandler& on_closed);
  // Closes every open window (end of a replay).
  void flush(const CloseHandler& on_closed);

  std::int64_t watermark() const { return max_event_time_ - config_.allowed_lateness_seconds; }
  std::int64_t max_event_time() const { return max_event_time_; }
  std::size_t entity_count() const { return index_.size(); }
  std::size_t open_windows() const { return windows_.size(); }
  const WindowerStats& stats() const { return stats_; }
  const WindowerConfig& config() const { return config_; }
  std::size_t slot_capacity() const { return slots_.size(); }
  const EntityKey& key_of(std::uint32_t slot) const { return slots_[slot].key; }

  // The whole table and every open window, so a restored Windower continues exactly
  // where this one stopped (same slots, same LRU order, same partial windows).
  void save(detectors::StateWriter& w) const;
  // On failure returns the reason and leaves this Windower unchanged.
  std::string load(detectors::StateReader& r);

  // Approximate bytes held: the table plus open windows.
  std::size_t memory_usage() const;

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  // Laid out hot first: ingest touches the key, times and recent windows of a slot
  // (two cache lines); `seen` only for client flows.
  struct Slot {
    EntityKey key;
    std::int64_t last_seen = 0;
    std::int64_t busy_until = 0;  // end of the newest open window holding this slot
    // The slot's two most recently used open windows (records straddle a boundary
    // while a window waits for late data), so that most observations skip the window
    // map and index lookups. Accumulators live in a deque and never move, so a pointer
    // stays valid until its window closes (close_window clears it). Not saved.
    std::array<std::int64_t, 2> recent_start{};
    std::array<WindowAccumulator*, 2> recent{};
    SeenHistory seen;
  };
  // LRU links (head = most recent), apart from the slots: moving an entity to the
  // front touches its neighbours' links, which here share a few cache lines instead
  // of costing a miss on each neighbour's slot.
  struct LruLink {
    std::uint32_t prev = kNone;
    std::uint32_t next = kNone;
  };
  // One window's entities: a flat list plus an index by slot. Closed windows are
  // cleared and reused, and accumulators come from a pool, so in a steady state
  // opening and closing entity-windows allocates nothing.
  struct OpenWindow {
    struct Entry {
      std::uint32_t slot;
      WindowAccumulator* accumulator;
    };
    std::vector<Entry> entries;
    SlotIndex index;  // slot_hash(slot) -> position in entries
  };
  static std::uint64_t slot_hash(std::uint32_t slot) { return std::uint64_t{slot} * 0x9e3779b97f4a7c15ULL; }
  static WindowAccumulator* find_entry(const OpenWindow& window, std::uint32_t slot);
  // The slot's accumulator in the window, added (empty) when absent.
  WindowAccumulator& entry(OpenWindow& window, std::uint32_t slot);
  OpenWindow& window_at(std::int64_t start);

  std::uint32_t find_or_add(const EntityKey& key, std::uint64_t hash, std::int64_t time);
  void touch(std::uint32_t slot);
  void unlink(std::uint32_t slot);
  void link_front(std::uint32_t slot);
  void release(std::uint32_t slot);
  void expire_idle(std::int64_t now);
  void close_window(std::int64_t start, OpenWindow& window, const CloseHandler& on_closed);

  WindowerConfig config_;
  SlotIndex index_;  // EntityKey::hash() -> slot; keys live in slots_
  std::vector<Slot> slots_;
  std::vector<LruLink> lru_;  // by slot, same size as slots_
  std::vector<std::uint32_t> free_;
  std::uint32_t lru_head_ = kNone;
  std::uint32_t lru_tail_ = kNone;
  std::map<std::int64_t, OpenWindow> windows_;  // by window start
  std::vector<OpenWindow> spare_windows_;       // closed, cleared, kept for reuse (a few)
  std::deque<WindowAccumulator> accumulators_;  // pool: stable addresses
  std::vector<WindowAccumulator*> spare_accumulators_;
  std::int64_t max_event_time_ = INT64_MIN / 2;
  std::int64_t closed_until_ = INT64_MIN / 2;  // every window ending at or before this is closed
  WindowerStats stats_;
  EvictHandler on_evict_;
};

}  // namespace flowlier::models
