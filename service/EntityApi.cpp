#include "service/EntityApi.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace flowlier::service {

namespace {
constexpr auto kTimeout = std::chrono::seconds(5);
constexpr const char* kJson = "application/json";

// %XX escapes (an IPv6 id may arrive with its colons escaped); "" when malformed.
std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return {};
    unsigned value = 0;
    for (int k = 1; k <= 2; ++k) {
      const char c = text[i + k];
      value = value * 16 + (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                        : c >= 'A' && c <= 'F'   ? c - 'A' + 10
                                                                                 : 256);
    }
    if (value > 255) return {};
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

transport::MetricsReply error_reply(int status, std::string_view message) {
  // Built as JSON: a message may quote what the client sent.
  const nlohmann::json body = {{"error", message}};
  return {status, kJson, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

// /api/v1/episodes' query: "status=open" or nothing. The service keeps only open
// episodes (resolved ones went out as events), so anything else is refused with why
// rather than answered with a list that means something else. "" when acceptable.
std::string episodes_query_error(std::string_view query) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const std::string key = percent_decoded(pair.substr(0, eq));
    const std::string value = eq == std::string_view::npos ? std::string() : percent_decoded(pair.substr(eq + 1));
    if (key != "status") return fmt::format("unknown query parameter '{}': the only one is status=open", key);
    if (value == "open") continue;
    if (value == "all" || value == "resolved") {
      return fmt::format("status={} is not served: only open episodes are kept (resolved ones were published as "
                         "events; see the sinks)", value);
    }
    return fmt::format("unknown status '{}': the only status is open", value);
  }
  return {};
}

// Every engine's answer to one question, concatenated; nullopt if one did not answer.
std::optional<std::vector<std::string>> ask_all(std::vector<std::unique_ptr<EngineQueries>>& engines,
                                                const EngineQueries::Question& question) {
  std::vector<std::string> all;
  for (auto& engine : engines) {
    auto answer = engine->ask(question, std::chrono::duration_cast<std::chrono::milliseconds>(kTimeout));
    if (!answer) return std::nullopt;
    all.insert(all.end(), answer->begin(), answer->end());
  }
  return all;
}
}  // namespace

std::optional<std::vector<std::string>> EngineQueries::ask(Question question, std::chrono::milliseconds timeout) {
  auto pending = std::make_shared<Pending>();
  pending->question = std::move(question);
  std::unique_lock lock(mutex_);
  if (closed_) return std::nullopt;
  queue_.push_back(pending);
  if (!answered_.wait_for(lock, timeout, [&] { return pending->done || closed_; }) || !pending->done) {
    return std::nullopt;
  }
  return std::move(pending->answer);
}

void EngineQueries::serve(const pipeline::Engine& engine) {
  std::deque<std::shared_ptr<Pending>> questions;
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) return;
    questions.swap(queue_);
  }
  // Answered outside the lock: the engine is this thread's, the mailbox everyone's.
  for (auto& q : questions) q->answer = q->question(engine);
  std::lock_guard lock(mutex_);
  for (auto& q : questions) q->done = true;
  answered_.notify_all();
}

void EngineQueries::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  queue_.clear();
  answered_.notify_all();
}

std::optional<transport::MetricsReply> entity_api_reply(std::string_view path, std::string_view query,
                                                        std::vector<std::unique_ptr<EngineQueries>>& engines) {
  constexpr std::string_view kEntities = "/api/v1/entities/";
  if (path == "/api/v1/episodes") {
    if (auto error = episodes_query_error(query); !error.empty()) return error_reply(400, error);
    if (engines.empty()) return error_reply(404, "no scoring engines in this process (role)");
    auto open = ask_all(engines, [](const pipeline::Engine& e) { return e.open_episodes_json(); });
    if (!open) return error_reply(503, "a scoring engine did not answer in time");
    std::string body = "{\"status\":\"open\",\"episodes\":[";
    for (std::size_t i = 0; i < open->size(); ++i) body += (i ? "," : "") + (*open)[i];
    return transport::MetricsReply{200, kJson, body + "]}\n"};
  }
  if (!path.starts_with(kEntities)) return std::nullopt;
  const std::string_view rest = path.substr(kEntities.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
    return error_reply(400, "expected /api/v1/entities/{kind}/{id}");
  }
  const std::string kind(rest.substr(0, slash));
  const std::string id = percent_decoded(rest.substr(slash + 1));
  if (!models::parse_entity_kind(kind)) return error_reply(400, "unknown entity kind");
  if (engines.empty()) return error_reply(404, "no scoring engines in this process (role)");
  // By value: a question that timed out may still be answered after this returns.
  auto views = ask_all(engines, [kind, id](const pipeline::Engine& e) {
    std::string view = e.entity_view_json(kind, id);
    return view.empty() ? std::vector<std::string>{} : std::vector<std::string>{std::move(view)};
  });
  if (!views) return error_reply(503, "a scoring engine did not answer in time");
  if (views->empty()) return error_reply(404, "no such entity (never seen, evicted, or another role holds it)");
  return transport::MetricsReply{200, kJson, views->front() + "\n"};
}

}  // namespace flowlier::service
