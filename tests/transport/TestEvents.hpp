#pragma once
// Test events for the transport tests.
#include <string>

#include <fmt/format.h>

#include "transport/SinkEvent.hpp"

namespace flowlier::transport::test {

inline SinkEvent make_event(int n, bool resolved = false, SinkSeverity severity = SinkSeverity::high,
                            const std::string& entity = "eni-0abc") {
  SinkEvent e;
  auto& m = e.meta;
  m.id = fmt::format("evt-{:05}", n);
  m.episode = fmt::format("ep-{}", n / 2);
  m.resolved = resolved;
  m.severity = severity;
  m.time = 1700000000 + n * 60;
  m.entity_kind = "interface";
  m.entity_id = entity;
  m.detector = "ewma";
  m.feature = "bytes_out";
  m.category = "exfiltration";
  m.summary = "bytes out 40x the usual";
  e.json = fmt::format(R"({{"schema":"flowlier.anomaly.v1","id":"{}","episode":"{}","status":"{}","entity_id":"{}","severity":"{}"}})",
                       m.id, m.episode, resolved ? "resolved" : "firing", entity, to_string(severity));
  return e;
}

}  // namespace flowlier::transport::test
