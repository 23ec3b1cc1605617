package label

import (
	"time"
)

// sampleWaybill is the golden waybill: a rare-character name (𠮷), an
// emoji, a Hong Kong address, gifts, tags and the urgent mark.
func sampleWaybill() *Waybill {
	return &Waybill{
		CarrierCode:   "ZTO",
		CarrierName:   "中通快递",
		Service:       "标准快递",
		SortCode:      "571-K12 00",
		PackageCenter: "杭州转运中心",
		No:            "78512345678901",
		Receiver: Party{
			Name:     "𠮷野家😀王小明",
			Phone:    "13812345678",
			Province: "香港特别行政区",
			City:     "九龍",
			District: "旺角",
			Address:  "彌敦道 688 號 旺角中心 1 期 23 樓 2301 室 Flat 2301, 23/F, Argyle Centre Phase 1, 688 Nathan Road, Mong Kok",
		},
		Sender: Party{
			Name: "小杨", Phone: "0571-88886666",
			Province: "浙江省", City: "杭州市", District: "余杭区", Address: "仓前街道文一西路 998 号 3 号仓",
		},
		Items: []Item{
			{Name: "婴儿纯棉连体衣", Spec: "颜色:米白; 尺码:73", Qty: 2},
			{Name: "宝宝防水口水巾", Spec: "三条装", Qty: 1},
		},
		Gifts:     []Item{{Name: "围兜", Qty: 1}, {Name: "安抚奶嘴", Qty: 2}},
		Urgent:    true,
		Tags:      []string{"易碎", "重点复核"},
		Remark:    "生日礼物, 请不要放发票 🎂",
		OrderID:   "O-20260128-000137",
		PrintedAt: time.Date(2026, 1, 28, 10, 21, 44, 0, time.FixedZone("CST", 8*3600)),
	}
}

func samplePackingList() *PackingList {
	return &PackingList{
		OrderID:     "O-20260128-000137",
		PlatformNo:  "6921834455667788",
		CarrierName: "中通快递",
		WaybillNo:   "78512345678901",
		Receiver:    "王小明 138****5678",
		Urgent:      true,
		Tags:        []string{"重点复核"},
		Remark:      "生日礼物",
		Lines: []PickLine{
			{Location: "B-01-1-02", SKU: "BB-BIB-01", Name: "围兜", Qty: 1, Gift: true},
			{Location: "A-03-2-07", SKU: "BB-ONE-73W", Name: "婴儿纯棉连体衣", Spec: "米白 73", Qty: 2, Batch: "B20251102"},
			{Location: "A-01-1-01", SKU: "BB-TOWEL-3", Name: "宝宝防水口水巾", Spec: "三条装", Qty: 1},
			{SKU: "GIFT-PACI", Name: "安抚奶嘴", Qty: 2, Gift: true},
		},
		PrintedAt: time.Date(2026, 1, 28, 10, 21, 44, 0, time.FixedZone("CST", 8*3600)),
	}
}
