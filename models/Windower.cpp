#include "models/Windower.hpp"

#include <algorithm>

namespace flowlier::models {

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
}  // namespace

Windower::Windower(WindowerConfig config) : config_(config) {
  if (config_.window_seconds <= 0) config_.window_seconds = 60;
  if (config_.allowed_lateness_seconds < 0) config_.allowed_lateness_seconds = 0;
  if (config_.max_entities == 0) config_.max_entities = 1;
}

void Windower::unlink(std::uint32_t s) {
  Slot& slot = slots_[s];
  if (slot.prev != kNone) slots_[slot.prev].next = slot.next;
  else lru_head_ = slot.next;
  if (slot.next != kNone) slots_[slot.next].prev = slot.prev;
  else lru_tail_ = slot.prev;
  slot.prev = slot.next = kNone;
}

void Windower::link_front(std::uint32_t s) {
  Slot& slot = slots_[s];
  slot.prev = kNone;
  slot.next = lru_head_;
  if (lru_head_ != kNone) slots_[lru_head_].prev = s;
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
  index_.erase(slots_[s].key);
  slots_[s] = Slot{};
  free_.push_back(s);
}

std::uint32_t Windower::find_or_add(const EntityKey& key, std::int64_t time) {
  if (auto it = index_.find(key); it != index_.end()) return it->second;
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
  }
  slots_[s].key = key;
  slots_[s].last_seen = time;
  index_.emplace(key, s);
  link_front(s);
  return s;
}

bool Windower::ingest(const Observation& o) {
  ++stats_.observations;
  const std::int64_t start = floor_div(o.time_s, config_.window_seconds) * config_.window_seconds;
  const std::int64_t end = start + config_.window_seconds;
  if (end <= closed_until_) {
    ++stats_.late;
    return false;
  }
  const std::uint32_t s = find_or_add(o.entity, o.time_s);
  if (s == kNone) return false;
  Slot& slot = slots_[s];
  if (o.time_s > slot.last_seen) slot.last_seen = o.time_s;
  slot.busy_until = std::max(slot.busy_until, end);
  touch(s);
  windows_[start][s].add(o, slot.seen);
  if (o.time_s > max_event_time_) max_event_time_ = o.time_s;
  return true;
}

void Windower::close_window(std::int64_t start, OpenWindow& window, const CloseHandler& on_closed) {
  std::vector<std::uint32_t> order;
  order.reserve(window.size());
  for (const auto& entry : window) order.push_back(entry.first);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return slots_[a].key < slots_[b].key; });
  for (std::uint32_t s : order) {
    on_closed(ClosedWindow{s, slots_[s].key, start, start + config_.window_seconds, window.at(s)});
    ++stats_.windows_closed;
  }
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
    windows_.erase(it);
  }
  const std::int64_t aligned = floor_div(time, config_.window_seconds) * config_.window_seconds;
  if (aligned > closed_until_) closed_until_ = aligned;
  expire_idle(time);
}

void Windower::flush(const CloseHandler& on_closed) {
  if (windows_.empty()) return;
  close_until(windows_.rbegin()->first + config_.window_seconds, on_closed);
}

std::size_t Windower::memory_usage() const {
  std::size_t bytes = sizeof(*this) + slots_.capacity() * sizeof(Slot) + free_.capacity() * sizeof(std::uint32_t);
  // unordered_map node: key + value + next pointer + cached hash, plus a bucket pointer.
  bytes += index_.size() * (sizeof(EntityKey) + sizeof(std::uint32_t) + 2 * sizeof(void*)) +
           index_.bucket_count() * sizeof(void*);
  for (const auto& [start, window] : windows_) {
    bytes += window.size() * (sizeof(WindowAccumulator) + 3 * sizeof(void*)) + window.bucket_count() * sizeof(void*);
  }
  return bytes;
}

}  // namespace flowlier::models
