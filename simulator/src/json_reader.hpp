// Typed, path-aware access to a JSON document, for user-written files whose
// errors must name the field: "nand.ecc.strength_bits: expected an integer
// between 1 and 64, got 100". Reading is strict: a key the reader never asked
// for is reported by finish() as unknown (usually a typo).
#pragma once

#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace vmodem::sim {

struct FieldError {
  std::string field;
  std::string message;
};

class JsonReader {
 public:
  JsonReader(const nlohmann::json& node, std::string path) : node_(node), path_(std::move(path)) {}

  bool ok() const { return !error_; }
  const std::optional<FieldError>& error() const { return error_; }

  // Each getter records the first error and returns a neutral value after it.
  std::string string(const std::string& key, const std::optional<std::string>& fallback = {});
  std::uint64_t integer(const std::string& key, std::uint64_t min, std::uint64_t max,
                        std::optional<std::uint64_t> fallback = {});
  double number(const std::string& key, double min, double max,
                std::optional<double> fallback = {});
  bool boolean(const std::string& key, std::optional<bool> fallback = {});
  bool has(const std::string& key) const { return node_.is_object() && node_.contains(key); }

  // A nested object (absent and `optional` -> an empty object).
  JsonReader object(const std::string& key, bool optional = false);
  // Elements of an array field; each element reader has path key[i].
  std::vector<JsonReader> array(const std::string& key);
  std::vector<std::uint64_t> integer_array(const std::string& key, std::uint64_t min,
                                           std::uint64_t max);
  std::vector<std::string> string_array(const std::string& key);

  // Reports keys present in the object that no getter asked for; the
  // message points at `schema` (where the file's fields are described).
  void finish(const std::string& schema = "configs/README.md");
  // Adopts the first error of a child reader.
  void absorb(const JsonReader& child);
  void fail(const std::string& key, const std::string& message);
  std::string path_of(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

 private:
  const nlohmann::json* get(const std::string& key, bool required);

  const nlohmann::json& node_;
  std::string path_;
  std::set<std::string> seen_;
  std::optional<FieldError> error_;
  static const nlohmann::json& empty_object();
};

}  // namespace vmodem::sim
