package story

import "testing"

// benchTexts are typical inputs: a headline and a summary cut to 300 characters, as match
// events carry them.
var benchTexts = []struct{ name, title, summary string }{
	{"en", "North Korean troops deployed to Russia's Kursk region, Seoul says",
		"South Korea's spy agency said on Wednesday that about 3,000 North Korean soldiers have moved to the front line in the Kursk region, where Ukraine holds territory. The agency cited satellite imagery and intercepted communications."},
	{"ru", "КНДР направила в Курскую область около трёх тысяч военных, сообщила разведка Южной Кореи",
		"Национальная разведывательная служба Южной Кореи заявила в среду, что около трёх тысяч северокорейских военнослужащих переброшены на линию фронта в Курской области. Ведомство ссылается на спутниковые снимки."},
	{"ko", "북한군 3천명 쿠르스크 전선 투입…국정원 \"위성사진으로 확인\"",
		"국가정보원은 수요일 북한군 약 3천 명이 우크라이나군이 점령한 러시아 쿠르스크 지역 전선에 투입됐다고 밝혔다. 국정원은 위성사진과 감청 정보를 근거로 들었다."},
}

func BenchmarkOf(b *testing.B) {
	for _, bt := range benchTexts {
		b.Run(bt.name, func(b *testing.B) {
			b.SetBytes(int64(len(bt.title) + len(bt.summary)))
			b.ReportAllocs()
			Of(bt.title, bt.summary) // build the fold table outside the measurement
			for b.Loop() {
				Of(bt.title, bt.summary)
			}
		})
	}
}

func BenchmarkSame(b *testing.B) {
	f, g := Of(benchTexts[0].title, benchTexts[0].summary), Of(benchTexts[1].title, benchTexts[1].summary)
	for b.Loop() {
		Same(f, g)
	}
}
