#include "utrace/script.hpp"

#include <cerrno>

#include "utrace/error.hpp"

namespace utrace
{

std::vector<std::string> split_words(std::string_view line)
{
	std::vector<std::string> words;
	std::string word;
	bool in_word = false;
	for (size_t i = 0; i < line.size(); i++) {
		const char c = line[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (in_word)
				words.push_back(std::move(word));
			word.clear();
			in_word = false;
			continue;
		}
		if (c == '#' && !in_word)
			break;
		in_word = true;
		if (c == '\'' || c == '"') {
			const size_t end = line.find(c, i + 1);
			if (c == '\'') {
				if (end == std::string_view::npos)
					throw Error(EINVAL, "unterminated ' quote");
				word.append(line.substr(i + 1, end - i - 1));
				i = end;
				continue;
			}
			size_t j = i + 1;
			for (; j < line.size() && line[j] != '"'; j++) {
				if (line[j] == '\\' && j + 1 < line.size() &&
				    (line[j + 1] == '"' || line[j + 1] == '\\'))
					j++;
				word.push_back(line[j]);
			}
			if (j >= line.size())
				throw Error(EINVAL, "unterminated \" quote");
			i = j;
			continue;
		}
		word.push_back(c);
	}
	if (in_word)
		words.push_back(std::move(word));
	return words;
}

} // namespace utrace
