package topics

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// loadArticle reads testdata/article.txt: title, summary, body lines, URL,
// feed id.
func loadArticle(tb testing.TB) Doc {
	tb.Helper()
	b, err := os.ReadFile("testdata/article.txt")
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	n := len(lines)
	return Doc{
		Title:   lines[0],
		Summary: lines[1],
		Content: strings.Join(lines[2:n-2], "\n"),
		URL:     lines[n-2],
		Source:  lines[n-1],
	}
}

// benchWords is the vocabulary of generated topics: news terms, some of
// which occur in the article.
var benchWords = strings.Fields(`
russia ukraine kremlin moscow kyiv putin zelensky nato troops soldiers military army missile drone
sanctions china beijing taiwan xi pyongyang dprk korea seoul japan tokyo iran tehran israel gaza
hamas hezbollah lebanon syria turkey erdogan india modi pakistan afghanistan taliban sudan ethiopia
nigeria kenya congo brazil lula argentina milei mexico venezuela colombia chile peru canada trump
biden harris congress senate election vote ballot parliament minister president government coalition
germany berlin scholz merz france paris macron britain london starmer italy meloni spain poland
hungary orban netherlands belgium brussels commission eu europe economy inflation recession growth
unemployment interest rates bank ecb fed bundesbank bonds stocks markets oil gas coal lng pipeline
opec energy electricity prices power nuclear solar wind climate drought flood wildfire heatwave storm
hurricane earthquake rain water river rhine danube shipping port freight barge container suez panama
strike union workers wages tariffs trade exports imports steel chemical basf volkswagen bmw siemens
airbus boeing tesla apple google microsoft amazon meta nvidia ai chips semiconductor cyber hacker
ransomware espionage spy police arrest court judge trial verdict prison protest riot refugees migrants
border asylum smuggling cartel cocaine terror attack bombing hostage ceasefire talks summit treaty
vaccine virus outbreak pandemic hospital health famine aid unicef un security council sahel wagner
arctic antarctic glacier emissions carbon farmers grain wheat fertilizer food famine fisheries salt
khartoum darfur tigray mogadishu somalia yemen houthis aden riyadh saudi qatar doha uae dubai oman
baghdad kurds erbil mosul damascus aleppo idlib beirut amman jordan egypt cairo sisi libya tripoli
tunisia algeria morocco rabat mali bamako niger niamey burkina chad senegal ghana accra lagos abuja
kinshasa goma rwanda kigali uganda kampala tanzania mozambique zimbabwe zambia angola namibia botswana
johannesburg pretoria ramaphosa capetown madagascar mauritius manila marcos philippines jakarta
prabowo indonesia malaysia singapore thailand bangkok myanmar junta cambodia laos vietnam hanoi
dhaka bangladesh colombo lanka kathmandu nepal bhutan kabul islamabad karachi lahore kashmir
ladakh tibet xinjiang uyghur hongkong macau shanghai shenzhen guangzhou wuhan chengdu mongolia
kazakhstan astana uzbekistan tashkent kyrgyzstan tajikistan turkmenistan georgia tbilisi armenia
yerevan azerbaijan baku belarus minsk lukashenko moldova chisinau transnistria crimea donbas kharkiv
odesa zaporizhzhia kherson mariupol bakhmut avdiivka kursk belgorod novorossiysk sevastopol
havana cuba haiti dominican jamaica guatemala honduras salvador bukele nicaragua ortega panama
bogota quito ecuador lima bolivia paraguay uruguay montevideo santiago boric caracas maduro
`)

var benchPhrases = []string{
	"north korea", "united states", "european union", "climate change", "natural gas", "interest rates",
	"central bank", "prime minister", "white house", "red sea", "black sea", "north sea", "middle east",
	"supply chain", "power plant", "low water", "united nations", "human rights", "south china sea",
	"west bank", "gaza strip", "strait of hormuz", "world bank", "asylum seekers", "trade war", "peace talks",
	"state of emergency", "death toll", "general election", "bird flu", "oil spill", "cyber attack",
	"nuclear deal", "rate cut", "debt ceiling", "arms deal", "air strike", "grain deal", "wagner group",
}

func benchTerm(r *rand.Rand) string {
	switch x := r.IntN(10); {
	case x < 1:
		return `"` + benchPhrases[r.IntN(len(benchPhrases))] + `"`
	case x < 2:
		// A stem, as analysts write them: militar*, sanction*.
		for {
			if w := benchWords[r.IntN(len(benchWords))]; len(w) >= 6 {
				return w[:len(w)-1-r.IntN(2)] + "*"
			}
		}
	}
	return benchWords[r.IntN(len(benchWords))]
}

// benchQuery returns a realistic topic of 2 to 8 terms.
func benchQuery(r *rand.Rand) string {
	t := func() string { return benchTerm(r) }
	switch r.IntN(8) {
	case 0:
		return fmt.Sprintf("(%s OR %s OR %s) AND (%s OR %s)", t(), t(), t(), t(), t())
	case 1:
		return fmt.Sprintf("%s AND (%s OR %s) NOT %s", t(), t(), t(), t())
	case 2:
		return fmt.Sprintf("%s NEAR/5 %s AND %s", t(), t(), t())
	case 3:
		return fmt.Sprintf("title:(%s OR %s) AND %s", t(), t(), t())
	case 4:
		return fmt.Sprintf("(%s OR %s OR %s) AND (%s OR %s OR %s) NOT (%s OR %s)", t(), t(), t(), t(), t(), t(), t(), t())
	case 5:
		return fmt.Sprintf("%s %s", t(), t())
	case 6:
		return fmt.Sprintf("(%s OR %s) NEAR/10 (%s OR %s) NOT source:%s", t(), t(), t(), t(), benchWords[r.IntN(len(benchWords))])
	}
	return fmt.Sprintf("(%s OR %s) AND (%s OR %s OR %s)", t(), t(), t(), t(), t())
}

func benchTopics(n int) []Topic {
	r := rand.New(rand.NewPCG(7, 11))
	ts := make([]Topic, n)
	for i := range ts {
		ts[i] = Topic{ID: fmt.Sprintf("topic-%05d", i), Query: benchQuery(r)}
	}
	return ts
}

func BenchmarkMatch(b *testing.B) {
	doc := loadArticle(b)
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("topics=%d", n), func(b *testing.B) {
			m, err := Compile(benchTopics(n))
			if err != nil {
				b.Fatal(err)
			}
			hits := len(m.Match(doc))
			b.ReportAllocs()
			for b.Loop() {
				m.Match(doc)
			}
			b.ReportMetric(float64(hits), "hits/op")
		})
	}
}

func BenchmarkParse(b *testing.B) {
	const q = `("North Korea" OR DPRK OR Pyongyang) AND (Russia OR Kremlin OR Moscow) AND (military OR troops OR soldiers) NOT title:sport*`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	ts := benchTopics(1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(ts); err != nil {
			b.Fatal(err)
		}
	}
}
