#include "util/split.hpp"

namespace dptrain {

std::vector<std::string> split_fields(std::string_view text, char separator) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (std::size_t at; (at = text.find(separator, start)) != std::string_view::npos; start = at + 1)
    fields.emplace_back(text.substr(start, at - start));
  fields.emplace_back(text.substr(start));
  return fields;
}

std::vector<std::string> split_list(std::string_view text, char separator) {
  std::vector<std::string> items = split_fields(text, separator);
  if (items.back().empty()) items.pop_back();
  return items;
}

}  // namespace dptrain
