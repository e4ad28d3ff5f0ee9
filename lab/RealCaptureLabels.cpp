#include "lab/RealCaptureLabels.hpp"

#include <nlohmann/json.hpp>

namespace flowlier::lab {

namespace {

bool read_seconds(const nlohmann::json& obj, const char* key, std::int64_t& out, const std::string& where,
                  std::string& error) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) {
    error = where + key + ": missing or not a number of Unix seconds";
    return false;
  }
  out = it->is_number_integer() ? it->get<std::int64_t>() : static_cast<std::int64_t>(it->get<double>());
  return true;
}

}  // namespace

const char* to_string(LabelsFormat format) {
  return format == LabelsFormat::flowlier_v1 ? "flowlier.labels.v1" : "real-capture";
}

std::optional<Labels> parse_real_capture_labels(std::string_view text, std::string& error) {
  const auto root = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (root.is_discarded() || !root.is_object()) {
    error = "labels: not a JSON object";
    return std::nullopt;
  }
  Labels labels;
  if (!read_seconds(root, "t0", labels.start, "", error) || !read_seconds(root, "t_end", labels.end, "", error)) {
    return std::nullopt;
  }
  if (labels.end < labels.start) {
    error = "t_end: before t0";
    return std::nullopt;
  }
  labels.warmup_end = labels.start;
  const auto incidents = root.find("incidents");
  if (incidents == root.end() || !incidents->is_array()) {
    error = "incidents: missing or not an array";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < incidents->size(); ++i) {
    const auto& item = (*incidents)[i];
    const std::string where = "incidents[" + std::to_string(i) + "].";
    if (!item.is_object()) {
      error = where + ": not an object";
      return std::nullopt;
    }
    LabelledSpan span;
    const auto id = item.find("id");
    if (id == item.end() || !(id->is_number_integer() || id->is_string())) {
      error = where + "id: missing or not a number or string";
      return std::nullopt;
    }
    span.id = "inc-" + (id->is_string() ? id->get<std::string>() : std::to_string(id->get<std::int64_t>()));
    const auto type = item.find("type");
    if (type == item.end() || !type->is_string()) {
      error = where + "type: missing or not a string";
      return std::nullopt;
    }
    span.type = type->get<std::string>();
    span.description = span.type;
    if (!read_seconds(item, "start", span.start, where, error) || !read_seconds(item, "end", span.end, where, error)) {
      return std::nullopt;
    }
    if (span.end < span.start) {
      error = where + "end: before start";
      return std::nullopt;
    }
    const auto entities = item.find("entities");
    if (entities == item.end() || !entities->is_array()) {
      error = where + "entities: missing or not an array";
      return std::nullopt;
    }
    for (const auto& e : *entities) {
      if (!e.is_string() || e.get_ref<const std::string&>().empty()) {
        error = where + "entities: not all non-empty strings";
        return std::nullopt;
      }
      span.entities.push_back({"any", e.get<std::string>()});
    }
    labels.incidents.push_back(std::move(span));
  }
  return labels;
}

std::optional<LoadedLabels> parse_any_labels(std::string_view text, std::string& error) {
  nlohmann::json root;
  if (!parse_labels_object(text, root, error)) return std::nullopt;
  if (root.contains("schema")) {
    auto labels = parse_labels(text, error);
    if (!labels) return std::nullopt;
    return LoadedLabels{std::move(*labels), LabelsFormat::flowlier_v1};
  }
  if (root.contains("t0") && root.contains("t_end")) {
    auto labels = parse_real_capture_labels(text, error);
    if (!labels) return std::nullopt;
    return LoadedLabels{std::move(*labels), LabelsFormat::real_capture};
  }
  error = "labels: neither flowlier.labels.v1 (a \"schema\" key) nor a real capture's labels (\"t0\" and \"t_end\")";
  return std::nullopt;
}

}  // namespace flowlier::lab
