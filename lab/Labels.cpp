#include "lab/Labels.hpp"

#include <nlohmann/json.hpp>

#include "lab/TimeText.hpp"

namespace flowlier::lab {

namespace {

using ordered = nlohmann::ordered_json;

ordered span_json(const LabelledSpan& span, bool with_actors) {
  ordered j;
  j["id"] = span.id;
  j["type"] = span.type;
  j["start"] = format_rfc3339(span.start);
  j["end"] = format_rfc3339(span.end);
  ordered entities = ordered::array();
  for (const auto& e : span.entities) entities.push_back(ordered{{"kind", e.kind}, {"id", e.id}});
  j["entities"] = std::move(entities);
  if (with_actors) j["actors"] = span.actors;
  j["description"] = span.description;
  return j;
}

// Small helpers that report the path of the first bad key.
bool read_string(const nlohmann::json& obj, const char* key, std::string& out,
                 const std::string& where, std::string& error) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    error = where + key + ": missing or not a string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

bool read_time(const nlohmann::json& obj, const char* key, std::int64_t& out,
               const std::string& where, std::string& error) {
  std::string text;
  if (!read_string(obj, key, text, where, error)) return false;
  const auto t = parse_rfc3339(text);
  if (!t) {
    error = where + key + ": not an RFC 3339 time: " + text;
    return false;
  }
  out = *t;
  return true;
}

bool read_spans(const nlohmann::json& root, const char* key, std::vector<LabelledSpan>& out,
                std::string& error) {
  const auto it = root.find(key);
  if (it == root.end()) return true;  // an absent list is an empty list
  if (!it->is_array()) {
    error = std::string(key) + ": not an array";
    return false;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& item = (*it)[i];
    const std::string where = std::string(key) + "[" + std::to_string(i) + "].";
    if (!item.is_object()) {
      error = where + ": not an object";
      return false;
    }
    LabelledSpan span;
    if (!read_string(item, "id", span.id, where, error) ||
        !read_string(item, "type", span.type, where, error) ||
        !read_time(item, "start", span.start, where, error) ||
        !read_time(item, "end", span.end, where, error)) {
      return false;
    }
    if (span.end < span.start) {
      error = where + "end: before start";
      return false;
    }
    if (const auto e = item.find("entities"); e != item.end()) {
      if (!e->is_array()) {
        error = where + "entities: not an array";
        return false;
      }
      for (std::size_t k = 0; k < e->size(); ++k) {
        const auto& ent = (*e)[k];
        const std::string ewhere = where + "entities[" + std::to_string(k) + "].";
        if (!ent.is_object()) {
          error = ewhere + ": not an object";
          return false;
        }
        LabelEntity entity;
        if (!read_string(ent, "kind", entity.kind, ewhere, error) ||
            !read_string(ent, "id", entity.id, ewhere, error)) {
          return false;
        }
        span.entities.push_back(std::move(entity));
      }
    }
    if (const auto a = item.find("actors"); a != item.end()) {
      if (!a->is_array()) {
        error = where + "actors: not an array";
        return false;
      }
      for (const auto& actor : *a) {
        if (!actor.is_string()) {
          error = where + "actors: not all strings";
          return false;
        }
        span.actors.push_back(actor.get<std::string>());
      }
    }
    if (const auto d = item.find("description"); d != item.end() && d->is_string()) {
      span.description = d->get<std::string>();
    }
    out.push_back(std::move(span));
  }
  return true;
}

bool read_string_list(const nlohmann::json& obj, const char* key, std::vector<std::string>& out,
                      const std::string& where, std::string& error) {
  const auto it = obj.find(key);
  if (it == obj.end()) return true;
  if (!it->is_array()) {
    error = where + key + ": not an array";
    return false;
  }
  for (const auto& v : *it) {
    if (!v.is_string()) {
      error = where + key + ": not all strings";
      return false;
    }
    out.push_back(v.get<std::string>());
  }
  return true;
}

bool read_estate(const nlohmann::json& root, std::vector<EstateHost>& out, std::string& error) {
  const auto it = root.find("estate");
  if (it == root.end()) return true;
  if (!it->is_array()) {
    error = "estate: not an array";
    return false;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& item = (*it)[i];
    const std::string where = "estate[" + std::to_string(i) + "].";
    if (!item.is_object()) {
      error = where + ": not an object";
      return false;
    }
    EstateHost h;
    if (!read_string(item, "role", h.role, where, error) || !read_string(item, "interface", h.interface, where, error) ||
        !read_string(item, "address", h.address, where, error) || !read_string_list(item, "zoo", h.zoo, where, error)) {
      return false;
    }
    if (item.contains("pods") && !read_string(item, "pods", h.pods, where, error)) return false;
    if (const auto p = item.find("present"); p != item.end()) {
      std::int64_t from = 0;
      std::int64_t until = 0;
      if (!p->is_object()) {
        error = where + "present: not an object";
        return false;
      }
      if (!read_time(*p, "from", from, where + "present.", error) ||
          !read_time(*p, "until", until, where + "present.", error)) {
        return false;
      }
      h.present = std::pair{from, until};
    }
    out.push_back(std::move(h));
  }
  return true;
}

}  // namespace

std::string labels_to_json(const Labels& labels) {
  ordered j;
  j["schema"] = labels_schema;
  j["seed"] = labels.seed;
  j["start"] = format_rfc3339(labels.start);
  j["end"] = format_rfc3339(labels.end);
  j["window_seconds"] = labels.window_seconds;
  j["warmup_end"] = format_rfc3339(labels.warmup_end);
  ordered incidents = ordered::array();
  for (const auto& s : labels.incidents) incidents.push_back(span_json(s, true));
  j["incidents"] = std::move(incidents);
  ordered changes = ordered::array();
  for (const auto& s : labels.benign_changes) changes.push_back(span_json(s, false));
  j["benign_changes"] = std::move(changes);
  if (!labels.zoo.empty()) j["zoo"] = labels.zoo;
  if (!labels.estate.empty()) {
    ordered estate = ordered::array();
    for (const auto& h : labels.estate) {
      ordered o{{"role", h.role}, {"interface", h.interface}, {"address", h.address}, {"zoo", h.zoo}};
      if (!h.pods.empty()) o["pods"] = h.pods;
      if (h.present) o["present"] = ordered{{"from", format_rfc3339(h.present->first)}, {"until", format_rfc3339(h.present->second)}};
      estate.push_back(std::move(o));
    }
    j["estate"] = std::move(estate);
  }
  return j.dump(2) + "\n";
}

bool parse_labels_object(std::string_view text, nlohmann::json& root, std::string& error) {
  root = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (root.is_discarded()) {
    error = "labels: not valid JSON";
    return false;
  }
  if (!root.is_object()) {
    error = "labels: not a JSON object";
    return false;
  }
  return true;
}

std::optional<Labels> parse_labels(std::string_view text, std::string& error) {
  nlohmann::json root;
  if (!parse_labels_object(text, root, error)) return std::nullopt;
  Labels labels;
  std::string schema;
  if (!read_string(root, "schema", schema, "", error)) return std::nullopt;
  if (schema != labels_schema) {
    error = "schema: expected " + std::string(labels_schema) + ", got " + schema;
    return std::nullopt;
  }
  if (const auto s = root.find("seed"); s != root.end() && s->is_number_unsigned()) {
    labels.seed = s->get<std::uint64_t>();
  }
  if (!read_time(root, "start", labels.start, "", error) ||
      !read_time(root, "end", labels.end, "", error)) {
    return std::nullopt;
  }
  labels.warmup_end = labels.start;
  if (root.contains("warmup_end") &&
      !read_time(root, "warmup_end", labels.warmup_end, "", error)) {
    return std::nullopt;
  }
  if (const auto w = root.find("window_seconds"); w != root.end()) {
    if (!w->is_number_integer() || w->get<std::int64_t>() <= 0) {
      error = "window_seconds: not a positive integer";
      return std::nullopt;
    }
    labels.window_seconds = w->get<std::int64_t>();
  }
  if (labels.end < labels.start) {
    error = "end: before start";
    return std::nullopt;
  }
  if (!read_spans(root, "incidents", labels.incidents, error) ||
      !read_spans(root, "benign_changes", labels.benign_changes, error) ||
      !read_string_list(root, "zoo", labels.zoo, "", error) || !read_estate(root, labels.estate, error)) {
    return std::nullopt;
  }
  return labels;
}

}  // namespace flowlier::lab
