package parse

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// Headlines and a sentence of news in each script detection knows, written for this test.
var detectTexts = []struct {
	lang, text string
	encs       map[string]encoding.Encoding
}{
	{"ru", "Москва и Пхеньян подписали соглашение о военном сотрудничестве. Эксперты считают, что поставки снарядов продолжатся и в следующем году.",
		map[string]encoding.Encoding{"windows-1251": charmap.Windows1251, "koi8-r": charmap.KOI8R, "ibm866": charmap.CodePage866}},
	{"uk", "Уряд оголосив нові заходи підтримки для прикордонних громад. Міністр заявив, що програма почне працювати вже цього місяця.",
		map[string]encoding.Encoding{"windows-1251": charmap.Windows1251}},
	{"ko", "북한군, 러시아 파병 확인. 국가정보원은 북한이 특수부대 병력을 러시아에 보낸 것으로 파악했다고 밝혔다.",
		map[string]encoding.Encoding{"euc-kr": korean.EUCKR}},
	{"ja", "北朝鮮とロシアが軍事協力の協定に署名した。専門家は、砲弾の供給が来年も続くとみている。",
		map[string]encoding.Encoding{"shift_jis": japanese.ShiftJIS, "euc-jp": japanese.EUCJP}},
	{"zh-Hans", "朝鲜和俄罗斯签署了军事合作协议。专家认为，炮弹的供应明年还会继续，这对地区安全带来新的问题。",
		map[string]encoding.Encoding{"gb18030": simplifiedchinese.GBK}},
	{"zh-Hant", "北韓與俄羅斯簽署了軍事合作協議。專家認為，砲彈的供應明年還會繼續，這對地區安全帶來新的問題。",
		map[string]encoding.Encoding{"big5": traditionalchinese.Big5}},
	{"he", "ישראל וירדן חתמו על הסכם לשיתוף פעולה בתחום המים. לדברי השר, התוכנית תתחיל לפעול כבר החודש.",
		map[string]encoding.Encoding{"windows-1255": charmap.Windows1255}},
	{"el", "Η κυβέρνηση ανακοίνωσε νέα μέτρα στήριξης για τα νησιά. Ο υπουργός είπε ότι το πρόγραμμα θα ξεκινήσει τον επόμενο μήνα.",
		map[string]encoding.Encoding{"windows-1253": charmap.Windows1253}},
	{"ar", "أعلنت الحكومة عن إجراءات جديدة لدعم المزارعين في المناطق الحدودية. وقال الوزير إن البرنامج سيبدأ هذا الشهر.",
		map[string]encoding.Encoding{"windows-1256": charmap.Windows1256}},
	{"th", "รัฐบาลประกาศมาตรการใหม่เพื่อช่วยเหลือเกษตรกรในพื้นที่ชายแดน รัฐมนตรีกล่าวว่าโครงการจะเริ่มในเดือนนี้",
		map[string]encoding.Encoding{"windows-874": charmap.Windows874}},
}

// Latin text with accented letters, the commonest undeclared non-UTF-8 feed: it must stay
// windows-1252, not be taken for one of the scripts above.
var latinTexts = []string{
	"Le gouvernement a annoncé de nouvelles mesures pour les régions frontalières. « Ça commencera dès ce mois-ci », a déclaré le ministre.",
	"El Gobierno anunció nuevas ayudas para los agricultores de las zonas fronterizas. El programa empezará este mes, según el ministro español.",
	"Die Regierung kündigte neue Maßnahmen für die Grenzregionen an. Das Programm beginnt schon in diesem Monat, sagte der Minister für Außenpolitik.",
	"O governo anunciou novas medidas de apoio às regiões fronteiriças. As negociações começarão este mês, disse o ministro das relações exteriores.",
	"Hallituksen mukaan ohjelma käynnistyy jo tässä kuussa. Ministeri kertoi, että päätös tehdään yhteistyössä Ruotsin kanssa.",
}

func TestDetectLegacy(t *testing.T) {
	for _, tc := range detectTexts {
		for name, enc := range tc.encs {
			t.Run(tc.lang+"/"+name, func(t *testing.T) {
				title, _, _ := strings.Cut(strings.NewReplacer("。", ".", " ", " ").Replace(tc.text), ".")
				doc := "<rss><channel><title>" + title + "</title><item><title>" + tc.text + "</title></item></channel></rss>"
				body, err := enc.NewEncoder().Bytes([]byte(doc))
				if err != nil {
					t.Fatal(err)
				}
				f := mustParse(t, body, "", "")
				if f.Encoding != name || f.Title != title || f.Items[0].Title != tc.text {
					t.Errorf("read as %s: title %q", f.Encoding, f.Title)
				}
			})
		}
	}
	for _, text := range latinTexts {
		body, err := charmap.Windows1252.NewEncoder().Bytes([]byte("<rss><channel><title>" + text + "</title></channel></rss>"))
		if err != nil {
			t.Fatal(err)
		}
		if f := mustParse(t, body, "", ""); f.Encoding != "windows-1252" || f.Title != text {
			t.Errorf("Latin text read as %s: %q", f.Encoding, f.Title)
		}
	}
}

func TestDetectLegacyDeclines(t *testing.T) {
	tests := []struct{ name, body string }{
		{"ascii", "<rss><channel><title>plain</title></channel></rss>"},
		{"utf-8 with one stray byte", "<rss><channel><title>Пхеньян \xe9 Москва</title></channel></rss>"},
		{"two legacy bytes", "<rss><channel><title>a\xc1\xc2b</title></channel></rss>"},
	}
	for _, tc := range tests {
		if enc, name := detectLegacy([]byte(tc.body)); enc != nil {
			t.Errorf("%s: detected %s", tc.name, name)
		}
	}
}
