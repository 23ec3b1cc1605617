package sample

import (
	"github.com/dockhand/dockhand/agent/codes"
)

// Product is one item of the sample catalogue.
type Product struct {
	SKU      string
	Name     string
	Spec     string
	Category string // 母婴, 家居, 汽配, 宠物, 赠品
	// EAN13 is the unit barcode, "" for unlabelled goods.
	EAN13 string
	// Case is a GTIN-14 case (inner pack) code, or "".
	Case string
	// Batches the warehouse holds of this SKU (car parts); a line picks one.
	Batches  []string
	WeightG  int
	Location string
	Gift     bool
}

// Barcodes lists the product's codes as an order line carries them.
func (p *Product) Barcodes(withCase bool) []string {
	switch {
	case p.EAN13 == "":
		return []string{}
	case withCase && p.Case != "":
		return []string{p.EAN13, p.Case}
	}
	return []string{p.EAN13}
}

// ean13 completes a 12-digit body with its check digit.
func ean13(body string) string { return body + string(codes.CheckDigit(body)) }

// caseCode is the GTIN-14 of an inner pack: indicator digit 1, the EAN-13's
// first 12 digits, a new check digit.
func caseCode(ean string) string {
	body := "1" + ean[:12]
	return body + string(codes.CheckDigit(body))
}

// catalogue is the sample shop: a mother-and-baby brand, home goods, car parts
// (with batches) and pet food, plus the gifts they give away.
var catalogue = func() []Product {
	type p = Product
	list := []p{
		{SKU: "BYT-MH001", Name: "有机米糊礼盒", Spec: "口味:原味; 规格:6盒装", Category: "母婴", EAN13: ean13("697123456789"), WeightG: 1450, Location: "A-12-5-02"},
		{SKU: "BYT-MH002", Name: "有机米糊礼盒", Spec: "口味:南瓜; 规格:6盒装", Category: "母婴", EAN13: ean13("697123456788"), WeightG: 1450, Location: "A-12-5-01"},
		{SKU: "BYT-MF010", Name: "婴儿配方奶粉 1段", Spec: "800g", Category: "母婴", EAN13: ean13("697123456001"), WeightG: 980, Location: "A-03-2-07"},
		{SKU: "BYT-NK100", Name: "纸尿裤 NB码", Spec: "84片", Category: "母婴", EAN13: ean13("697123456301"), WeightG: 2100, Location: "A-05-1-03"},
		{SKU: "BYT-NK101", Name: "纸尿裤 S码", Spec: "76片", Category: "母婴", EAN13: ean13("697123456302"), WeightG: 2150, Location: "A-05-1-04"},
		{SKU: "BYT-XH021", Name: "婴儿洗护套装", Spec: "洗发沐浴二合一+润肤乳", Category: "母婴", EAN13: ean13("697123456102"), WeightG: 820, Location: "A-08-3-11"},
		{SKU: "BYT-SJ005", Name: "婴儿湿巾 手口专用", Spec: "80抽×5包", Category: "母婴", EAN13: ean13("697123456201"), WeightG: 1600, Location: "A-09-1-01"},
		{SKU: "BYT-YJ030", Name: "宝宝硅胶餐具套装", Spec: "颜色:奶油黄", Category: "母婴", EAN13: ean13("697123456403"), WeightG: 420, Location: "A-14-4-06"},
		{SKU: "HJ-SF-220", Name: "北欧风陶瓷餐具 16件套", Spec: "颜色:米白", Category: "家居", EAN13: ean13("692345001234"), WeightG: 5200, Location: "C-02-1-05"},
		{SKU: "HJ-DT-031", Name: "记忆棉靠垫", Spec: "颜色:雾霾蓝; 尺码:45×45", Category: "家居", EAN13: ean13("692345001987"), WeightG: 760, Location: "C-07-3-02"},
		{SKU: "HJ-SN-410", Name: "桌面收纳盒 三件套", Spec: "透明", Category: "家居", EAN13: ean13("692345004101"), WeightG: 900, Location: "C-11-2-09"},
		{SKU: "HJ-BL-007", Name: "玻璃保鲜盒", Spec: "1040ml×2", Category: "家居", EAN13: ean13("692345000701"), WeightG: 1300, Location: "C-04-5-01"},
		{SKU: "HJ-CL-118", Name: "手工编织收纳篮", Spec: "大号", Category: "家居", WeightG: 650, Location: "C-15-1-12"},
		{SKU: "HJ-ZD-520", Name: "亚麻桌布", Spec: "140×180cm 散装", Category: "家居", WeightG: 480, Location: "C-16-2-03"},
		{SKU: "SL-BP-0031", Name: "陶瓷刹车片 前轮", Spec: "适配:奔驰C级 W205", Category: "汽配", EAN13: ean13("695884120031"), Batches: []string{"B20251102", "B20251215", "B20260105"}, WeightG: 1800, Location: "B-04-5-12"},
		{SKU: "SL-BP-0032", Name: "陶瓷刹车片 后轮", Spec: "适配:奔驰C级 W205", Category: "汽配", EAN13: ean13("695884120032"), Batches: []string{"B20251102", "B20260105"}, WeightG: 1500, Location: "B-04-5-13"},
		{SKU: "SL-LJ-0102", Name: "机油滤清器", Spec: "适配:大众EA888", Category: "汽配", EAN13: ean13("695884120102"), Batches: []string{"B20251215", "B20251102"}, WeightG: 380, Location: "B-01-2-04"},
		{SKU: "SL-YS-0210", Name: "雨刮片 无骨", Spec: "24+18寸", Category: "汽配", EAN13: ean13("695884120210"), Batches: []string{"B20251020"}, WeightG: 520, Location: "B-09-1-01"},
		{SKU: "SL-HH-0400", Name: "火花塞 铱金", Spec: "4支装", Category: "汽配", EAN13: ean13("695884120400"), Batches: []string{"B20251130", "B20260110"}, WeightG: 260, Location: "B-02-4-08"},
		{SKU: "CW-DG-500", Name: "冻干猫粮 鸡肉味", Spec: "500g", Category: "宠物", EAN13: ean13("694112230050"), WeightG: 560, Location: "D-01-1-02"},
		{SKU: "CW-DG-501", Name: "冻干猫粮 三文鱼味", Spec: "500g", Category: "宠物", EAN13: ean13("694112230051"), WeightG: 560, Location: "D-01-1-03"},
		{SKU: "CW-GL-150", Name: "成犬粮 牛肉味", Spec: "1.5kg", Category: "宠物", EAN13: ean13("694112231500"), WeightG: 1580, Location: "D-03-2-01"},
		{SKU: "CW-MS-020", Name: "猫砂 豆腐砂", Spec: "6L", Category: "宠物", EAN13: ean13("694112230200"), WeightG: 2600, Location: "D-06-1-01"},
		{SKU: "CW-LS-008", Name: "宠物零食 鸡胸肉条", Spec: "散称 100g", Category: "宠物", WeightG: 110, Location: "D-02-3-05"},
		// Gifts (赠品).
		{SKU: "BYT-WD002", Name: "围兜", Spec: "卡通款", Category: "赠品", EAN13: ean13("697123456790"), WeightG: 40, Location: "A-20-1-01", Gift: true},
		{SKU: "BYT-SJ001", Name: "湿巾", Spec: "10抽试用装", Category: "赠品", EAN13: ean13("697123456200"), WeightG: 60, Location: "A-20-1-02", Gift: true},
		{SKU: "CW-SY-001", Name: "猫粮试吃装", Spec: "50g", Category: "赠品", EAN13: ean13("694112230001"), WeightG: 55, Location: "D-20-1-01", Gift: true},
		{SKU: "HJ-ZP-001", Name: "杯垫", Spec: "2片", Category: "赠品", WeightG: 30, Location: "C-20-1-01", Gift: true},
	}
	// Inner packs of the goods people buy by the case.
	for i := range list {
		switch list[i].SKU {
		case "BYT-MF010", "BYT-NK100", "BYT-SJ005", "CW-MS-020", "SL-HH-0400":
			list[i].Case = caseCode(list[i].EAN13)
		}
	}
	return list
}()

// Catalogue returns a copy of the sample products.
func Catalogue() []Product {
	out := make([]Product, len(catalogue))
	copy(out, catalogue)
	return out
}

var (
	labelled, unlabelled, gifts, carParts []int // indexes into catalogue: labelled goods (not car parts), car parts, goods without a barcode, gifts
)

func init() {
	for i, p := range catalogue {
		switch {
		case p.Gift:
			gifts = append(gifts, i)
			continue
		case p.EAN13 == "":
			unlabelled = append(unlabelled, i)
		case p.Category == "汽配":
			carParts = append(carParts, i)
		default:
			labelled = append(labelled, i)
		}
	}
}
