#include "models/Windower.hpp"

#include <algorithm>

#include "core/TimeMath.hpp"

namespace flowlier::models {

Windower::Windower(WindowerConfig config) : config_(config) {
  if (config_.window_seconds <= 0) config_.window_seconds = 60;
  if (config_.allowed_lateness_seconds < 0) config_.allowed_lateness_seconds = 0;
  if (config_.max_entities == 0) config_.max_entities = 1;
}

void Windower::unlink(std::uint32_t s) {
  LruLink& link = lru_[s];
  if (link.prev != kNone) lru_[link.prev].next = link.next;
  else lru_head_ = link.next;
  if (link.next != kNone) lru_[link.next].prev = link.prev;
  else lru_tail_ = link.prev;
  link.prev = link.next = kNone;
}

void Windower::link_front(std::uint32_t s) {
  LruLink& link = lru_[s];
  link.prev = kNone;
  link.next = lru_head_;
  if (lru_head_ != kNone) lru_[lru_head_].prev = s;
  lru_head_ = s;
  if (lru_tail_ == kNone) lru_tail_ = s;
}

void Windower::touch(std::uint32_t s) {
  if (lru_head_ == s) return;
  unlink(s);
  link_front(s);
}

void Windower::release(std::uint32_t s) {
  if (on_evict_) on_evict_(s, slots_[s].key);
  unlink(s);
  index_.erase(slots_[s].key.hash(), s);
  slots_[s] = Slot{};
  free_.push_back(s);
}

std::uint32_t Windower::find_or_add(const EntityKey& key, std::uint64_t hash, std::int64_t time) {
  if (auto s = index_.find(hash, [&](std::uint32_t slot) { return slots_[slot].key == key; }); s != kNone) return s;
  if (index_.size() >= config_.max_entities) {
    // Evict the least recently seen entity, unless it still has an open window.
    const std::uint32_t victim = lru_tail_;
    if (victim == kNone || slots_[victim].busy_until > closed_until_) {
      ++stats_.dropped_table_full;
      return kNone;
    }
    release(victim);
    ++stats_.evicted_full;
  }
  std::uint32_t s;
  if (!free_.empty()) {
    s = free_.back();
    free_.pop_back();
  } else {
    s = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
    lru_.emplace_back();
  }
  slots_[s].key = key;
  slots_[s].last_seen = time;
  index_.insert(hash, s);
  link_front(s);
  return s;
}

std::uint32_t Windower::ingest_slot(const Observation& o, std::uint64_t key_hash, bool& new_peer) {
  new_peer = false;
  ++stats_.observations;
  const std::int64_t start = core::window_start(o.time_s, config_.window_seconds);
  const std::int64_t end = start + config_.window_seconds;
  if (end <= closed_until_) {
    ++stats_.late;
    return kNoSlot;
  }
  const std::uint32_t s = find_or_add(o.entity, key_hash, o.time_s);
  if (s == kNone) return kNoSlot;
  Slot& slot = slots_[s];
  if (o.time_s > slot.last_seen) slot.last_seen = o.time_s;
  slot.busy_until = std::max(slot.busy_until, end);
  touch(s);
  WindowAccumulator* window;
  if (slot.recent[0] != nullptr && slot.recent_start[0] == start) {
    window = slot.recent[0];
  } else if (slot.recent[1] != nullptr && slot.recent_start[1] == start) {
    window = slot.recent[1];
    std::swap(slot.recent[0], slot.recent[1]);
    std::swap(slot.recent_start[0], slot.recent_start[1]);
  } else {
    window = &entry(window_at(start), s);
    slot.recent[1] = slot.recent[0];
    slot.recent_start[1] = slot.recent_start[0];
    slot.recent[0] = window;
    slot.recent_start[0] = start;
  }
  new_peer = window->add(o, slot.seen);
  if (o.time_s > max_event_time_) max_event_time_ = o.time_s;
  return s;
}

Windower::OpenWindow& Windower::window_at(std::int64_t start) {
  auto it = windows_.lower_bound(start);
  if (it != windows_.end() && it->first == start) return it->second;
  if (spare_windows_.empty()) return windows_.emplace_hint(it, start, OpenWindow{})->second;
  it = windows_.emplace_hint(it, start, std::move(spare_windows_.back()));
  spare_windows_.pop_back();
  return it->second;
}

WindowAccumulator* Windower::find_entry(const OpenWindow& window, std::uint32_t slot) {
  const std::uint32_t at =
      window.index.find(slot_hash(slot), [&](std::uint32_t i) { return window.entries[i].slot == slot; });
  return at == SlotIndex::kNone ? nullptr : window.entries[at].accumulator;
}

WindowAccumulator& Windower::entry(OpenWindow& window, std::uint32_t slot) {
  if (WindowAccumulator* found = find_entry(window, slot)) return *found;
  WindowAccumulator* accumulator;
  if (spare_accumulators_.empty()) {
    accumulator = &accumulators_.emplace_back();
  } else {
    accumulator = spare_accumulators_.back();
    spare_accumulators_.pop_back();
    *accumulator = WindowAccumulator{};
  }
  window.index.insert(slot_hash(slot), static_cast<std::uint32_t>(window.entries.size()));
  window.entries.push_back({slot, accumulator});
  return *accumulator;
}

void Windower::close_window(std::int64_t start, OpenWindow& window, const CloseHandler& on_closed) {
  auto& entries = window.entries;
  std::sort(entries.begin(), entries.end(),
            [&](const OpenWindow::Entry& a, const OpenWindow::Entry& b) { return slots_[a.slot].key < slots_[b.slot].key; });
  for (const auto& [s, accumulator] : entries) {
    on_closed(ClosedWindow{s, slots_[s].key, start, start + config_.window_seconds, *accumulator});
    ++stats_.windows_closed;
    for (int i = 0; i < 2; ++i) {
      if (slots_[s].recent_start[i] == start) slots_[s].recent[i] = nullptr;
    }
    spare_accumulators_.push_back(accumulator);
  }
  entries.clear();
  window.index.clear();
}

void Windower::expire_idle(std::int64_t now) {
  while (lru_tail_ != kNone) {
    const Slot& oldest = slots_[lru_tail_];
    if (oldest.last_seen + config_.idle_ttl_seconds >= now || oldest.busy_until > closed_until_) break;
    release(lru_tail_);
    ++stats_.evicted_idle;
  }
}

void Windower::close_until(std::int64_t time, const CloseHandler& on_closed) {
  while (!windows_.empty()) {
    auto it = windows_.begin();
    const std::int64_t end = it->first + config_.window_seconds;
    if (end > time) break;
    close_window(it->first, it->second, on_closed);
    // Bounded: about allowed_lateness / window_seconds + 2 windows are open at a time.
    if (spare_windows_.size() < 4) spare_windows_.push_back(std::move(it->second));
    windows_.erase(it);
  }
  if (windows_.empty() && (!accumulators_.empty() || !spare_windows_.empty())) {
    // Nothing open (end of a replay, a long quiet spell): give the pools back.
    spare_accumulators_ = {};
    accumulators_ = {};
    spare_windows_ = {};
  }
  const std::int64_t aligned = core::window_start(time, config_.window_seconds);
  if (aligned > closed_until_) closed_until_ = aligned;
  expire_idle(time);
}

void Windower::flush(const CloseHandler& on_closed) {
  if (windows_.empty()) return;
  close_until(windows_.rbegin()->first + config_.window_seconds, on_closed);
}

void Windower::save(detectors::StateWriter& w) const {
  w.put<std::uint64_t>(slots_.size());
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    w.put(s.key.kind);
    w.put_string(s.key.id.view());
    w.put(s.key.host);
    w.put(s.last_seen);
    w.put(s.busy_until);
    w.put(lru_[i].prev);
    w.put(lru_[i].next);
    w.put(s.seen);
  }
  w.put_vector(free_);
  w.put(lru_head_);
  w.put(lru_tail_);
  w.put(max_event_time_);
  w.put(closed_until_);
  w.put(stats_);
  w.put<std::uint64_t>(windows_.size());
  for (const auto& [start, window] : windows_) {
    w.put(start);
    std::vector<OpenWindow::Entry> order = window.entries;
    std::sort(order.begin(), order.end(),
              [](const OpenWindow::Entry& a, const OpenWindow::Entry& b) { return a.slot < b.slot; });
    w.put<std::uint64_t>(order.size());
    for (const auto& [s, accumulator] : order) {
      w.put(s);
      accumulator->save(w);
    }
  }
}

std::string Windower::load(detectors::StateReader& r) {
  Windower next(config_);
  std::uint64_t slot_count = 0;
  if (!r.get(slot_count)) return r.error();
  if (slot_count > (std::uint64_t{1} << 32) - 2) return "entity table state is too large";
  // Each saved slot takes at least this many bytes, so a hostile count is refused
  // before it is allocated (found by fuzz_state_restore).
  constexpr std::size_t kMinSlotBytes = sizeof(EntityKind) + sizeof(std::uint32_t) + 2 * sizeof(std::int64_t) +
                                        2 * sizeof(std::uint32_t) + sizeof(SeenHistory);
  if (slot_count > r.remaining() / kMinSlotBytes) return "entity table state is truncated";
  next.slots_.resize(slot_count);
  next.lru_.resize(slot_count);
  for (std::size_t i = 0; i < slot_count; ++i) {
    Slot& s = next.slots_[i];
    std::string id;
    r.get(s.key.kind);
    r.get_string(id, Symbol::capacity);
    s.key.id.assign(id);
    r.get(s.key.host);
    r.get(s.last_seen);
    r.get(s.busy_until);
    r.get(next.lru_[i].prev);
    r.get(next.lru_[i].next);
    r.get(s.seen);
    if (!r.ok()) return r.error();
    if (static_cast<std::size_t>(s.key.kind) >= kEntityKindCount) return "entity table state has an unknown entity kind";
  }
  r.get_vector(next.free_, slot_count);
  r.get(next.lru_head_);
  r.get(next.lru_tail_);
  r.get(next.max_event_time_);
  r.get(next.closed_until_);
  r.get(next.stats_);
  if (!r.ok()) return r.error();
  std::vector<bool> is_free(slot_count, false);
  for (std::uint32_t f : next.free_) {
    if (f >= slot_count) return "entity table state has a free slot out of range";
    is_free[f] = true;
  }
  for (std::uint32_t i = 0; i < slot_count; ++i) {
    if (is_free[i]) continue;
    const Slot& s = next.slots_[i];
    const LruLink& link = next.lru_[i];
    if ((link.prev != kNone && link.prev >= slot_count) || (link.next != kNone && link.next >= slot_count)) {
      return "entity table state has a broken LRU link";
    }
    const std::uint64_t hash = s.key.hash();
    // A duplicate key in a corrupt state keeps its first slot, as before.
    if (next.index_.find(hash, [&](std::uint32_t slot) { return next.slots_[slot].key == s.key; }) == kNone) {
      next.index_.insert(hash, i);
    }
  }
  std::uint64_t window_count = 0;
  r.get(window_count);
  for (std::uint64_t i = 0; i < window_count && r.ok(); ++i) {
    std::int64_t start = 0;
    std::uint64_t entries = 0;
    r.get(start);
    r.get(entries);
    if (entries > slot_count) return "window state names more entities than the table holds";
    auto& window = next.window_at(start);
    for (std::uint64_t k = 0; k < entries && r.ok(); ++k) {
      std::uint32_t s = 0;
      r.get(s);
      if (s >= slot_count || is_free[s]) return "window state names an entity slot that is not in use";
      if (!next.entry(window, s).load(r)) break;
    }
  }
  if (!r.ok()) return r.error();
  next.on_evict_ = std::move(on_evict_);
  *this = std::move(next);
  return {};
}

std::size_t Windower::memory_usage() const {
  std::size_t bytes = sizeof(*this) + slots_.capacity() * sizeof(Slot) + lru_.capacity() * sizeof(LruLink) +
                      free_.capacity() * sizeof(std::uint32_t);
  bytes += index_.memory_usage();
  // The accumulator pool holds as many as were ever open at once.
  bytes += accumulators_.size() * sizeof(WindowAccumulator) + spare_accumulators_.capacity() * sizeof(void*);
  for (const auto& [start, window] : windows_) {
    bytes += window.entries.capacity() * sizeof(OpenWindow::Entry) + window.index.memory_usage();
  }
  for (const auto& window : spare_windows_) {
    bytes += window.entries.capacity() * sizeof(OpenWindow::Entry) + window.index.memory_usage();
  }
  return bytes;
}

}  // namespace flowlier::models
