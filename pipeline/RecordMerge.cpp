#include "pipeline/RecordMerge.hpp"

#include <queue>
#include <utility>
#include <vector>

namespace flowlier::pipeline {

void RecordMerge::add(std::uint64_t source, const FlowRecord& record) {
  Source& s = sources_[source];
  s.records.push_back(record);
  s.newest = s.seen ? std::max(s.newest, record_time(record)) : record_time(record);
  s.seen = true;
  ++held_;
}

void RecordMerge::release(std::int64_t before, const Out& out) {
  using Head = std::pair<std::int64_t, std::uint64_t>;  // (record time, source)
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (const auto& [id, s] : sources_) {
    if (!s.records.empty()) heads.emplace(record_time(s.records.front()), id);
  }
  while (!heads.empty()) {
    const auto [time, id] = heads.top();
    const bool forced = held_ > max_held_;
    if (time >= before && !forced) break;
    if (time >= before) ++forced_;
    heads.pop();
    auto& records = sources_[id].records;
    out(records.front());
    records.pop_front();
    --held_;
    if (!records.empty()) heads.emplace(record_time(records.front()), id);
  }
  std::erase_if(sources_, [](const auto& entry) { return entry.second.records.empty() && !entry.second.seen; });
}

std::optional<std::int64_t> RecordMerge::newest(std::uint64_t source) const {
  const auto it = sources_.find(source);
  if (it == sources_.end() || !it->second.seen) return std::nullopt;
  return it->second.newest;
}

void RecordMerge::forget(std::uint64_t source) {
  const auto it = sources_.find(source);
  if (it == sources_.end()) return;
  if (it->second.records.empty()) {
    sources_.erase(it);
  } else {
    it->second.seen = false;  // erased once its records are handed on
  }
}

}  // namespace flowlier::pipeline
