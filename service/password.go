package service

import (
	"slices"
	"strings"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// Password rules. Length is counted in bytes: bcrypt reads at most 72.
const (
	minPasswordLen = 8
	maxPasswordLen = 72
	// minPasswordScore is zxcvbn's score 2: more than a million guesses. A
	// password below it is one of the most common passwords or words, or
	// a repetition, a sequence, a keyboard walk, a date, or the account's
	// own name or phone number, alone or barely changed.
	minPasswordScore = 2
)

// commonChinesePasswords are frequent passwords of Chinese users that
// zxcvbn's English lists miss: the pinyin and number phrases at the top of the
// 2011 CSDN and Tianya leaks and of later yearly lists, surnames in pinyin,
// and words of this service and its region.
var commonChinesePasswords = []string{
	"woaini", "woaini1314", "woaini520", "aini1314", "5201314", "1314520", "520520", "131420", "woaiwojia",
	"wodemima", "mima", "mimamima", "dearbook", "xiazhili", "qq", "qq123", "taobao", "baidu", "weixin", "zhifubao",
	"zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "hu", "guo", "lin",
	"zhongguo", "beijing", "shanghai", "shandong", "zibo", "zhangdian", "zichuan", "menqian", "menqianwubao", "chengguan",
	"admin", "admin123", "guanliyuan", "xunchayuan", "shanghu", "jiayou", "fendou", "kuaile", "xingfu", "pingan",
}

// passwordProblem says in Chinese what is wrong with a password, or "" when
// it may be used. related are the account's own words (username, display
// name, the shop's name and phone): a password made of them is refused.
func passwordProblem(pw string, related ...string) string {
	if n := len(pw); n < minPasswordLen || n > maxPasswordLen {
		return "密码长度应为 8 到 72 个字符"
	}
	var own []string
	for _, r := range related {
		if r = strings.ToLower(strings.TrimSpace(r)); r != "" {
			own = append(own, r)
		}
	}
	res := zxcvbn.PasswordStrength(pw, append(slices.Clone(commonChinesePasswords), own...))
	if res.Score >= minPasswordScore {
		return ""
	}
	return "密码太容易被猜到：" + weakness(res.Sequence, own) + "。请换一个更长、更少见的密码，如几个不相关的词加数字"
}

// weakness names the longest guessable part of a weak password.
func weakness(seq []*match.Match, own []string) string {
	var m *match.Match
	for _, s := range seq {
		if s.Pattern != "bruteforce" && (m == nil || len(s.Token) > len(m.Token)) {
			m = s
		}
	}
	if m == nil {
		return "太短或太简单"
	}
	switch m.Pattern {
	case "dictionary":
		if m.DictionaryName == "user_inputs" && slices.Contains(own, m.MatchedWord) {
			return "含有用户名、姓名或手机号"
		}
		return "是常见密码或常用词（如 password、woaini1314）"
	case "repeat":
		return "由重复的字符组成（如 11111111、abcabcabc）"
	case "sequence":
		return "是连续的字符（如 12345678、abcdefgh）"
	case "spatial":
		return "是键盘上相邻的按键（如 qwertyui、1qaz2wsx）"
	case "date":
		return "是日期"
	}
	return "太简单"
}
