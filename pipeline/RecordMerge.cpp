#include "pipeline/RecordMerge.hpp"

#include <algorithm>
#include <queue>
#include <utility>
#include <vector>

#include "pipeline/RecordWire.hpp"

namespace flowlier::pipeline {

void RecordMerge::add(std::uint64_t source, const FlowRecord& record) {
  Source& s = sources_[source];
  const std::size_t before = s.wire.size();
  append_record_wire(s.wire, record);
  const std::int64_t t = record_time(record);
  s.entries.push_back({t, static_cast<std::uint32_t>(s.wire.size() - before)});
  s.newest = std::max(s.newest, t);
  ++held_;
  held_bytes_ += s.wire.size() - before;
}

void RecordMerge::release(std::int64_t before, const Out& out) {
  using Head = std::pair<std::int64_t, std::uint64_t>;  // (record time, source)
  std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
  for (const auto& [id, s] : sources_) {
    if (!s.entries.empty()) heads.emplace(s.entries.front().time, id);
  }
  while (!heads.empty()) {
    const auto [time, id] = heads.top();
    if (time >= before) {
      if (held_ <= max_held_) break;
      ++forced_;
    }
    heads.pop();
    Source& s = sources_[id];
    const Entry e = s.entries.front();
    out(std::string_view(s.wire).substr(s.head, e.size));
    s.entries.pop_front();
    s.head += e.size;
    --held_;
    held_bytes_ -= e.size;
    if (!s.entries.empty()) {
      heads.emplace(s.entries.front().time, id);
    } else {
      s.wire.clear();
      s.head = 0;
    }
  }
  for (auto it = sources_.begin(); it != sources_.end();) {
    Source& s = it->second;
    if (s.entries.empty() && s.newest < before) {
      it = sources_.erase(it);
      continue;
    }
    if (s.head > s.wire.size() / 2) {  // what was handed on is given back
      s.wire.erase(0, s.head);
      s.head = 0;
    }
    if (s.entries.empty()) s.wire.shrink_to_fit();
    ++it;
  }
}

std::optional<std::int64_t> RecordMerge::newest(std::uint64_t source) const {
  const auto it = sources_.find(source);
  if (it == sources_.end()) return std::nullopt;
  return it->second.newest;
}

}  // namespace flowlier::pipeline
