#pragma once
// Splitting a list value at a separator ("mlp:256,128", "a.h5,b*.h5", "-1:0,1:1", an older
// file's joined names): written once, so every option reads its list the same way.
#include <string>
#include <string_view>
#include <vector>

namespace dptrain {

// The fields between separators, empty ones included: n separators give n + 1 fields
// ("a,,b," -> "a", "", "b", ""; "" -> one empty field).
std::vector<std::string> split_fields(std::string_view text, char separator = ',');

// The items of a list as std::getline reads them: split_fields without its last field when
// that is empty ("256,128," -> "256", "128"; "" -> no items).
std::vector<std::string> split_list(std::string_view text, char separator = ',');

}  // namespace dptrain
