#pragma once
// Pure encoders (events -> request bodies) and the request builder for each HTTP
// sink type. No I/O, no clock: the same events always give the same bytes.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "transport/SinkConfig.hpp"
#include "transport/SinkEvent.hpp"

namespace flowlier::transport {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"; may hold secrets: never log them
  std::string body;                  // already compressed when Content-Encoding is set
};

// Unix seconds -> "2026-11-26T21:16:42Z".
std::string rfc3339(std::int64_t seconds);

// Splunk HEC: concatenated envelopes {time, host, source, sourcetype, index, fields, event},
// `time` = the window end, indexed fields severity/entity_kind/entity/detector/category/status.
std::string encode_hec(const SinkConfig&, std::span<const SinkEvent>);
// Sumo Logic: one JSON event per line (the event carries RFC 3339 UTC times).
std::string encode_sumo(std::span<const SinkEvent>);
// Alertmanager webhook v4: one group; status resolved only when every alert is resolved.
std::string encode_alertmanager(const SinkConfig&, std::span<const SinkEvent>);
// Alertmanager API v2 (POST /api/v2/alerts): a JSON array of alerts, labels alertname
// FlowlierAnomaly, severity, entity_kind, entity, category, detector; annotations summary,
// description (value vs expected, top contributors), episode, event_id. A firing event gets
// endsAt = now + resend_horizon_seconds; a resolution gets endsAt = min(its time, now).
// `now` is Unix seconds at send time (the caller's clock: encoders read none).
std::string encode_alertmanager_v2(const SinkConfig&, std::span<const SinkEvent>, std::int64_t now);
// "value 1.2e+06 vs expected 3.4e+03; top contributors: 10.0.0.1:443 (62%), ..." from the event JSON.
std::string event_description(const SinkEvent&);
// Where an alertmanager sink posts: each of config.urls with /api/v2/alerts appended
// (unless already there).
std::vector<std::string> alertmanager_endpoints(const SinkConfig&);
// PagerDuty Events API v2: exactly one event (trigger or resolve, dedup_key = episode).
std::string encode_pagerduty(const SinkConfig&, const SinkEvent&);
// Slack incoming webhook: {"text": ...}, one line per event, resolved events say so.
std::string encode_slack(std::span<const SinkEvent>);
// Generic: a JSON array of the events as they are.
std::string encode_json_array(std::span<const SinkEvent>);

// PagerDuty severity for ours: critical -> critical, high -> error, medium -> warning, else info.
const char* pagerduty_severity(SinkSeverity);
// One human-readable line (Slack, PagerDuty summary), at most max_chars UTF-8-safe bytes.
std::string event_summary(const EventMeta&, std::size_t max_chars);

// The whole request for a batch (URL, headers with auth, body gzipped where configured).
// PagerDuty needs a batch of exactly one event. `channel` is the HEC ack channel ("" = none).
// `now` (Unix seconds) is used by the alertmanager type only; its URL is the first endpoint.
HttpRequest build_request(const SinkConfig&, std::span<const SinkEvent>, const std::string& channel = "",
                          std::int64_t now = 0);
// HEC ack poll request for the given ack ids.
HttpRequest build_hec_ack_request(const SinkConfig&, const std::string& channel, std::span<const std::uint64_t> ids);

std::string gzip_compress(std::string_view plain);
std::string gunzip_text(std::string_view compressed);  // "" on error (tests)

}  // namespace flowlier::transport
