#include "dptrain/names.hpp"

#include "util/split.hpp"

namespace dptrain {

std::string_view strip_utf8_bom(std::string_view text) {
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  return text.substr(0, 3) == bom ? text.substr(3) : text;
}

std::vector<std::string> read_names(const H5Reader& file, const std::string& object, const std::string& key,
                                    char separator) {
  if ((object != "/" && !file.has_dataset(object) && !file.has_group(object)) || !file.has_attribute(object, key) ||
      !file.attribute_is_string(object, key))
    return {};
  bool scalar = false;
  std::vector<std::string> names = file.attribute_strings(object, key, &scalar);
  if (!scalar) return names;
  // One string: an older file's joined names.
  return split_fields(names[0], separator);
}

std::vector<std::string> read_class_names(const H5Reader& file, const std::string& labels_name) {
  std::vector<std::string> names = read_names(file, labels_name, "classes");
  return names.empty() ? read_names(file, labels_name, "class-names", '\n') : names;
}

std::vector<std::string> read_column_names(const H5Reader& file, const std::string& features_name) {
  return read_names(file, features_name, "columns");
}

std::vector<std::string> names_if_count(const std::vector<std::string>& names, std::int64_t count) {
  return static_cast<std::int64_t>(names.size()) == count ? names : std::vector<std::string>{};
}

std::vector<std::string> model_class_names(const Checkpoint& model, const DataDescription& data) {
  if (!model.spec.classifier()) return {};
  const std::vector<std::string>& names = model.class_names.empty() ? data.class_names : model.class_names;
  return names_if_count(names, model.spec.classes());
}

std::string probability_column(const std::vector<std::string>& class_names, std::int64_t id) {
  const auto i = static_cast<std::size_t>(id);
  return "p_" + (i < class_names.size() ? class_names[i] : std::to_string(id));
}

}  // namespace dptrain
