package parse

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// Legacy encoding detection, for documents that are not UTF-8 and name no encoding anywhere.
//
// Each candidate encoding decodes a sample of the document, and a scorer for the script that
// encoding is used for counts the characters that are typical of real text in that script:
// its commonest letters or characters. Text in another encoding decodes to invalid sequences
// (multi-byte encodings), to the wrong letter case (KOI8-R read as windows-1251 and back), or
// to rare characters; Latin text with a few accented letters (the commonest undeclared
// encoding of all) decodes to letters glued to ASCII letters, which no scorer counts. The
// best score wins if it is clear enough; otherwise the document is read as UTF-8 with
// windows-1252 for the bytes that are not.

// detectSample is how much of a document detection looks at.
const detectSample = 64 << 10

// detectMinScore is the share of typical characters, among the non-ASCII ones, below which no
// candidate is believed; detectMinTypical is the least number of them.
const (
	detectMinScore   = 0.3
	detectMinTypical = 3
)

// candidate is an encoding detection may choose, with the scorer for its script.
type candidate struct {
	name     string
	enc      encoding.Encoding
	typical  func(r rune) bool
	wordwise bool // a single-byte script: count only letters not glued to ASCII letters
}

var candidates = []candidate{
	{"euc-kr", korean.EUCKR, runeSet(commonHangul), false},
	{"shift_jis", japanese.ShiftJIS, isKana, false},
	{"euc-jp", japanese.EUCJP, isKana, false},
	{"gb18030", simplifiedchinese.GB18030, runeSet(commonHan), false},
	{"big5", traditionalchinese.Big5, runeSet(commonHan), false},
	{"windows-1251", charmap.Windows1251, runeSet(commonCyrillic), true},
	{"koi8-r", charmap.KOI8R, runeSet(commonCyrillic), true},
	{"ibm866", charmap.CodePage866, runeSet(commonCyrillic), true},
	{"windows-1253", charmap.Windows1253, runeSet(commonGreek), true},
	{"windows-1255", charmap.Windows1255, runeSet(commonHebrew), true},
	{"windows-1256", charmap.Windows1256, runeSet(commonArabic), true},
	{"windows-874", charmap.Windows874, runeSet(commonThai), true},
}

// The commonest characters of each script, which make up roughly four fifths of the letters
// of running text (for Chinese and Korean, a good half of the characters). For the alphabets
// they are lower-case letters only: case is what tells KOI8-R from windows-1251, which swap it.
// No list holds a script's whole alphabet, or text in one single-byte encoding would score
// fully in another that maps the same bytes to letters of its own script.
const (
	commonCyrillic = "оеаинтсрвлкмдпуяыь"
	commonGreek    = "αοιετνσςυρπκμληάέίό"
	commonHebrew   = "יוהלארמתבשנדעקכ"
	commonArabic   = "اليمونرهبتدعفةقسكح"
	commonThai     = "านรอกเงมยลวดทสตะไ่้ั"
	commonHangul   = "이다는의에하고을가로지서기한사리도자어으일시대인게수아나해정주있들전라적부과것국제상원를보여구장면우성중만동소생방학문경개비위요내세선관마신실용조공치유화행발진재무연결야저않각안회러할된월년까니모며터건명물미데교계통분작본업단민함체호입운거차출당와없또던금점임음간말았었했습번후감님드께르트스크프티컴블그더영알때게요씨들은을를원께서"
	// commonHan holds the commonest Chinese characters, in simplified and traditional forms,
	// and the punctuation of Chinese text.
	commonHan = "的一是不了在人有我他这個个们們中来來上大为為和国國地到以说說时時要就出会會可也你对對生能而子那得于於着著下自之年过過发發后後作里裡用道行所然家种種事成方多经經么麼去法学學如都同现現当當没沒动動面起看定天分还還进進好小部其些主样樣理心她本前开開但因只从從想实實日军軍者意无無力它与與长長把机機十民第公此已工使情明性知全三又关關点點正业業外将將两兩高间間由问問很最重并並物手应應战戰向头頭文体體政美相见見被利什二等产產或新己制身果加西斯月话話合回特代内內信表化老给給世位次度门門任常先海通教儿兒原东東声聲提立及比员員解水名真论論处處走义義各入几幾口认認条條平系气氣题題活尔爾更别別打女变變四神总總何电電数數安少报報才结結反受目太量再感建务務做接必场場件计計管期市直德资資命山金指克许許统統区區保至队隊形社便空决決治展马馬科司五基眼书書非则則听聽白却界达達光放强強即像难難且权權思王象完设設式色路记記南品住告类類求据據程北边邊死张張该該交规規万萬取拉格望觉覺术術领領共确確传傳师師观觀清今切院让讓识識候带帶导導争爭运運笑飞飛风風步改收根干造言联聯持组組每济濟车車亲親极極林服快办辦议議往元英士证證近失转轉夫令准布始怎呢存未远遠叫台单單影具罗羅字爱愛击擊流备備兵连連调調深商算质質团團集百需价價花党黨华華城石级級整府离離况況亚亞请請技际際约約示复復病息究线線似官火断斷精满滿支视視消越器容照须須九增研写寫称稱企八功吗嗎包片史委乎查轻輕易早曾除农農找装裝广廣显顯吧阿李标標谈談吃图圖念六引历歷首医醫局突专專费費号號尽盡另周较較注语語仅僅考落青随隨选選列武红紅响響虽雖推势勢参參希古众眾构構房半节節土投某案黑维維革划敌敵致陈陳律足态態护護七兴興派孩验驗责責营營星够夠章音跟志底站严嚴巴例防族供效续續施留讲講型料终終答紧緊黄黃绝絕奇察母京段依批群项項故按河米围圍江织織害斗双雙境客纪紀采举舉杀殺攻父苏蘇密低朝友诉訴止细細愿千值仍男钱錢破网網热熱助倒育属屬坐帝限船脸臉职職速刻乐樂否刚剛威毛状狀率甚独獨球般普怕弹彈校苦创創假久错錯承印晚兰蘭试試股拿脑腦预預谁誰益阳陽若哪微尼继繼送急血惊驚伤傷素药藥适適波夜省初喜卫衛源食险險待述陆陸习習置居劳勞财財环環排福纳納欢歡雷警获獲模充负負云雲停木游龙龍树樹疑层層冷洲冲射略范竟句室异異激汉漢村哈策演简簡卡罪判担擔州静靜退既衣您宗积積余痛检檢差富灵靈协協角占配征修皮挥揮胜勝降阶階审審沉坚堅善妈媽刘劉读讀啊超免压壓银銀买買皇养養伊怀懷执執副乱亂抗犯追帮幫宣佛岁歲航优優怪香著田铁鐵控税稅左右份穿艺藝背阵陣草脚腳概恶惡块塊顿頓敢守酒岛島托央户戶烈洋哥索胡款靠评評版宝寶座释釋景顾顧弟登货貨互付伯慢欧歐换換闻聞危忙核暗姐介坏壞讨討丽麗良序升监監临臨亮露永呼味野架域沙掉括舰艦鱼魚杂雜误誤湾灣吉减減编編楚肯测測败敗屋跑梦夢散温溫困剑劍渐漸封救贵貴枪槍缺楼樓县縣尚毫移娘朋画畫班智亦耳恩短掌恐遗遺固席松秘谢謝鲁魯遇康虑慮幸均销銷钟鐘诗詩藏赶趕剧劇票损損忽巨炮旧舊端探湖录錄叶葉春乡鄉附吸予礼禮港雨呀板庭妇婦归歸睛饭飯额額含顺順输輸摇搖招婚脱脫补補谓謂督毒油疗療旅泽澤材灭滅逐莫笔筆亡鲜鮮词詞圣聖择擇寻尋厂廠睡博勒烟煙授诺諾伦倫岸奥奧唐卖賣俄炸载載洛健堂旁宫宮喝借君禁阴陰园園谋謀宋避抓荣榮姑孙孫逃牙束跳顶頂玉镇鎮雪午练練迫爷爺篇肉嘴馆館遍凡础礎洞卷坦牛宁寧纸紙诸諸训訓私庄莊祖丝絲翻暴森塔默握戏戲隐隱熟骨访訪弱蒙歌店鬼软軟典欲萨薩伙遭盘盤爸扩擴盖蓋弄雄稳穩忘亿億刺拥擁徒姆杨楊齐齊赛賽趣曲刀床迎冰虚虛玩析窗醒妻透购購替塞努休虎扬揚途侵刑绿綠兄迅套贸貿毕畢唯谷轮輪库庫迹跡尤竞競街促延震弃棄甲伟偉麻川申缓緩潜潛闪閃售灯燈针針哲络絡抵朱埃抱鼓植纯純夏忍页頁杰傑筑築折郑鄭贝貝尊吴吳秀混臣雅振染盛怒舞圆圓搞狂措姓残殘秋培迷诚誠宽寬宇猛摆擺梅毁毀伸摩盟末乃悲拍丁赵趙尺遥遙竹厚纷紛惜衡涉瞬恋戀粮糧迟遲冒漫希望翻译譯助改稿感谢謝移" +
		"，。、：；？！“”‘’（）《》「」"
)

func runeSet(s string) func(rune) bool {
	m := make(map[rune]bool, utf8.RuneCountInString(s))
	for _, r := range s {
		m[r] = true
	}
	return func(r rune) bool { return m[r] }
}

// isKana reports whether r is hiragana, katakana or Japanese punctuation: the characters that
// make up a large share of any Japanese text and almost none of Chinese or Korean.
func isKana(r rune) bool {
	return (r >= 0x3041 && r <= 0x30FF) || r == '、' || r == '。' || r == '「' || r == '」'
}

// detectLegacy guesses the encoding of a document that is not UTF-8 and declares none. It
// returns nil when the document is mostly UTF-8 (stray bytes are repaired instead), has no
// non-ASCII text to go by, or no candidate is convincing.
func detectLegacy(body []byte) (encoding.Encoding, string) {
	sample := body[:min(len(body), detectSample)]
	valid, invalid := utf8Evidence(sample)
	if invalid == 0 || valid >= invalid {
		return nil, ""
	}
	var best candidate
	bestScore := 0.0
	for _, c := range candidates {
		if s := score(c, sample); s > bestScore {
			best, bestScore = c, s
		}
	}
	if bestScore < detectMinScore {
		return nil, ""
	}
	return best.enc, best.name
}

// utf8Evidence counts the valid multi-byte UTF-8 sequences in b and the bytes that are not
// part of any valid sequence.
func utf8Evidence(b []byte) (valid, invalid int) {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			invalid++
			i++
			continue
		}
		valid++
		i += size
	}
	return valid, invalid
}

// score decodes sample with c and returns the share of typical characters among the
// non-ASCII ones, or 0 when the decoding is implausible.
func score(c candidate, sample []byte) float64 {
	text, err := c.enc.NewDecoder().Bytes(sample)
	if err != nil {
		return 0
	}
	var nonASCII, bad, typical int
	prev := ' '
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		i += size
		next, _ := utf8.DecodeRune(text[i:])
		if r < utf8.RuneSelf {
			prev = r
			continue
		}
		nonASCII++
		switch {
		case r == utf8.RuneError || r == '\x1a' || (r >= 0x80 && r < 0xA0) || unicode.Is(unicode.Co, r):
			bad++
		case c.typical(r) && !(c.wordwise && (isASCIILetter(prev) || isASCIILetter(next))):
			typical++
		}
		prev = r
	}
	// A multi-byte reading that breaks characters is wrong; one stray at a cut is not.
	if nonASCII == 0 || bad*50 > nonASCII || typical < detectMinTypical {
		return 0
	}
	return float64(typical) / float64(nonASCII)
}

func isASCIILetter(r rune) bool {
	r |= 0x20
	return r >= 'a' && r <= 'z'
}
