package floor

import (
	"fmt"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

// The words on the screen: short, plain, what to do next. Chinese first, for
// the floor; English for the log and for whoever reads it.

func m(zh, en string) Message { return Message{ZH: zh, EN: en} }

func interceptWhy(o *wire.Order) (zh, en string) {
	if o.Intercept == nil {
		return "", ""
	}
	reasons := map[string]string{"refund_requested": "买家申请退款", "cancelled": "订单已取消", "address_changed": "地址已修改"}
	zh = reasons[o.Intercept.Reason]
	if zh == "" {
		zh = o.Intercept.Reason
	}
	if o.Intercept.Note != "" {
		zh += ": " + o.Intercept.Note
	}
	en = o.Intercept.Reason
	if o.Intercept.Note != "" {
		en += ": " + o.Intercept.Note
	}
	return " (" + zh + ")", " (" + en + ")"
}

func msgIntercepted(o *wire.Order) Message {
	zh, en := interceptWhy(o)
	return m("订单已拦截,不能发货"+zh+" — 停止打包,商品放异常区",
		"Order intercepted, it must not ship"+en+" — stop packing, put the goods in the exception area")
}

func msgPull(o *wire.Order, was Message) Message {
	return m("拦截件!立即取出,不要交给快递 — "+was.ZH, "Pull this parcel out now, do not hand it to the courier — "+was.EN)
}

func msgNotReleased(o *wire.Order) Message {
	switch o.Status {
	case wire.StatusShipped:
		return m("订单已发货,不能再处理", "Order already shipped: nothing to do here")
	case wire.StatusClosed:
		return m("订单已关闭,不能发货", "Order closed: it must not ship")
	}
	return m("订单未放行,不能处理", "Order not released to this warehouse")
}

func holdText(l *wire.Line, batch string, h *wire.Hold) (zh, en string) {
	zh, en = l.Name, l.Name
	if batch != "" {
		zh += " 批次 " + batch
		en += " batch " + batch
	}
	if h.Reason != "" {
		zh += " (" + h.Reason + ")"
		en += " (" + h.Reason + ")"
	}
	return zh, en
}

func msgOnHold(l *wire.Line, h *wire.Hold) Message {
	b := h.Batch
	if b == "" {
		b = l.Batch
	}
	zh, en := holdText(l, b, h)
	return m("质检拦截,暂停出库: "+zh+" — 整单放异常区", "Quality hold, must not ship: "+en+" — put the whole order in the exception area")
}

func msgBatchOnHold(l *wire.Line, batch string, h *wire.Hold) Message {
	zh, en := holdText(l, batch, h)
	return m("这一件是质检拦截批次: "+zh+" — 拿走,换一件其他批次", "This unit is from a held batch: "+en+" — take it out, use another batch")
}

func msgOpened(o *wire.Order, expected string) Message {
	return m(fmt.Sprintf("已打开 %s — 请扫商品: %s", orderLabel(o), expected),
		fmt.Sprintf("Order %s open — scan the items: %s", orderLabel(o), expected))
}

func msgPickOpened(o *wire.Order, loc string) Message {
	if loc == "" {
		return m(fmt.Sprintf("开始拣货 %s — 请扫商品", o.OrderID), fmt.Sprintf("Picking %s — scan the items", o.OrderID))
	}
	return m(fmt.Sprintf("开始拣货 %s — 先去库位 %s", o.OrderID, loc), fmt.Sprintf("Picking %s — go to bin %s first", o.OrderID, loc))
}

func unreadable(perr error) (zh, en string) {
	if perr == nil {
		return "", ""
	}
	return " (条码读不对,请重扫: " + perr.Error() + ")", " (the code reads wrong, rescan: " + perr.Error() + ")"
}

func msgUnknownOrder(code string, perr error) Message {
	zh, en := unreadable(perr)
	return m(fmt.Sprintf("找不到订单 %s%s — 请扫面单号或订单号", code, zh),
		fmt.Sprintf("No order for %s%s — scan the waybill or the order number", code, en))
}

func msgItemFirst(name string) Message {
	return m(fmt.Sprintf("这是商品 (%s) — 请先扫面单号或订单号", name),
		fmt.Sprintf("That is an item (%s) — scan the waybill or the order number first", name))
}

func msgUnknownItem(code string, perr error, expected string) Message {
	zh, en := unreadable(perr)
	return m(fmt.Sprintf("不认识的条码 %s%s — 应扫: %s", code, zh, expected),
		fmt.Sprintf("Unknown code %s%s — expected: %s", code, en, expected))
}

func msgWrongItem(name, expected string) Message {
	return m(fmt.Sprintf("这不是本单的商品 (%s) — 应扫: %s", name, expected),
		fmt.Sprintf("Not an item of this order (%s) — expected: %s", name, expected))
}

func msgOverQuantity(l *wire.Line) Message {
	return m(fmt.Sprintf("%s 已扫够 %d 件 — 多的这件拿出来", l.Name, l.Qty),
		fmt.Sprintf("%s: all %d already scanned — take the extra one out", l.Name, l.Qty))
}

func msgCounted(l *wire.Line, n int, expected string) Message {
	gift, giftEN := "", ""
	if l.Gift {
		gift, giftEN = "(赠品)", " (gift)"
	}
	return m(fmt.Sprintf("✓ %s%s %d/%d — 还需: %s", l.Name, gift, n, l.Qty, expected),
		fmt.Sprintf("✓ %s%s %d/%d — still to scan: %s", l.Name, giftEN, n, l.Qty, expected))
}

func msgItemsDone(o *wire.Order) Message {
	if o.Waybill == nil {
		return m("商品已齐,但此单还没有面单号 — 放待打单区", "All items scanned, but this order has no waybill yet — put it in the waiting area")
	}
	return m("商品已齐 ✓ 请贴面单,再扫面单条码", "All items scanned ✓ stick the waybill label on, then scan it")
}

func msgExpired(l *wire.Line, date string) Message {
	return m(fmt.Sprintf("这件 %s 已过期 (有效期至 %s) — 拿走,换一件", l.Name, date),
		fmt.Sprintf("This %s is past its expiry date (%s) — take it out, use another one", l.Name, date))
}

func msgIncomplete(expected string) Message {
	return m("还有商品没扫 — 应扫: "+expected, "Items still missing — expected: "+expected)
}

func msgNoWaybill(o *wire.Order) Message {
	return m(fmt.Sprintf("订单 %s 还没有面单号,不能出库 — 放待打单区", o.OrderID),
		fmt.Sprintf("Order %s has no waybill yet and cannot leave — put it in the waiting area", o.OrderID))
}

func msgWaybillMismatch(got, want string) Message {
	return m(fmt.Sprintf("面单不对!扫到 %s,本单面单是 %s — 检查是不是贴错了", got, want),
		fmt.Sprintf("Wrong waybill! Scanned %s, this order's waybill is %s — check the label", got, want))
}

func msgVerified(o *wire.Order, ms int64) Message {
	return m(fmt.Sprintf("复核通过 ✓ %s (用时 %.0f 秒)", orderLabel(o), float64(ms)/1000),
		fmt.Sprintf("Verified ✓ %s (%.0f s)", orderLabel(o), float64(ms)/1000))
}

func msgAlreadyVerified(st *OrderState) Message {
	return m(fmt.Sprintf("此单已复核通过 (%s, %s) — 不要重复打包", st.VerifiedAt.Format("15:04"), st.Station),
		fmt.Sprintf("Already verified (%s at %s) — do not pack it twice", st.VerifiedAt.Format("15:04"), st.Station))
}

func msgAlreadyPicked(st *OrderState) Message {
	return m("此单已拣货完成 — 不要重复拣货", "Already picked — do not pick it twice")
}

func msgHandedOver(st *OrderState) Message {
	return m(fmt.Sprintf("此包裹已交接 (%s, %s)", st.HandoverID, st.HandedAt.Format("15:04")),
		fmt.Sprintf("Parcel already handed over (%s at %s)", st.HandoverID, st.HandedAt.Format("15:04")))
}

func msgClaimed(c *Claim) Message {
	return m(fmt.Sprintf("此单正在 %s 处理 (%s) — 不能两个台同时复核", c.Station, c.Operator),
		fmt.Sprintf("Another station (%s, %s) is working on this order", c.Station, c.Operator))
}

func msgOrderOpen(o *wire.Order, expected string) Message {
	return m(fmt.Sprintf("当前订单 %s 还没完成 — 先扫完 (%s) 或取消本单", o.OrderID, expected),
		fmt.Sprintf("Order %s is still open — finish it (%s) or cancel it first", o.OrderID, expected))
}

func msgStationBusy(s *Session) Message {
	return m(fmt.Sprintf("本台还有未完成的订单 %s — 先完成或取消", s.OrderID),
		fmt.Sprintf("This station still has order %s open — finish or cancel it first", s.OrderID))
}

func msgOrderGone(id string) Message {
	return m(fmt.Sprintf("订单 %s 已不在本仓 — 本单已取消,请扫下一单", id),
		fmt.Sprintf("Order %s is no longer in this warehouse — session ended", id))
}

func msgNoSession() Message {
	return m("请先扫面单号或订单号", "Scan a waybill or an order number first")
}

func msgHasBarcode(l *wire.Line) Message {
	return m(fmt.Sprintf("%s 有条码,请扫条码,不能手动确认", l.Name),
		fmt.Sprintf("%s has a barcode: scan it, it cannot be confirmed by hand", l.Name))
}

func msgNoSuchLine(id string) Message {
	return m("本单没有这一行: "+id, "This order has no line "+id)
}

func msgNothingOpen() Message {
	return m("本台没有进行中的订单", "Nothing open at this station")
}

func msgCancelled(s *Session) Message {
	if s.OrderID == "" {
		return m("已结束", "Ended")
	}
	return m(fmt.Sprintf("已取消 %s — 商品放回,订单可重新开始", s.OrderID),
		fmt.Sprintf("Cancelled %s — put the goods back; the order can be started again", s.OrderID))
}

func msgNothingToPick() Message { return m("没有待拣的订单", "Nothing to pick") }

func msgNotHere(loc, next string) Message {
	if next == "" {
		return m(fmt.Sprintf("库位 %s 没有本单商品", loc), fmt.Sprintf("Nothing of this order at bin %s", loc))
	}
	return m(fmt.Sprintf("库位 %s 没有本单要拣的商品 — 去 %s", loc, next),
		fmt.Sprintf("Nothing to pick at bin %s — go to %s", loc, next))
}

func msgAtLocation(loc string, l *wire.Line, n int) Message {
	return m(fmt.Sprintf("库位 %s: 拿 %s ×%d", loc, l.Name, n), fmt.Sprintf("Bin %s: take %s ×%d", loc, l.Name, n))
}

func msgScanLocation(l *wire.Line) Message {
	return m(fmt.Sprintf("请先扫库位 %s 再拿 %s", l.Location, l.Name),
		fmt.Sprintf("Scan bin %s before taking %s", l.Location, l.Name))
}

func msgPicked(o *wire.Order) Message {
	return m(fmt.Sprintf("拣货完成 ✓ %s — 送复核台", o.OrderID), fmt.Sprintf("Picked ✓ %s — take it to a packing bench", o.OrderID))
}

func msgNoHandoverID() Message {
	return m("请先扫笼车号或交接单号", "Scan the cage or manifest id first")
}

func msgHandoverStarted(id string) Message {
	return m(fmt.Sprintf("交接开始: %s — 逐个扫包裹面单", id), fmt.Sprintf("Handover %s — scan each parcel's waybill", id))
}

func msgUnknownParcel(code string) Message {
	return m(fmt.Sprintf("找不到包裹 %s — 放异常区", code), fmt.Sprintf("No parcel %s — put it in the exception area", code))
}

func msgNotVerified(o *wire.Order) Message {
	return m(fmt.Sprintf("包裹 %s 没有复核过,不能交接 — 送回复核台", orderLabel(o)),
		fmt.Sprintf("Parcel %s was never verified and cannot leave — take it back to a packing bench", orderLabel(o)))
}

func msgHandedOverOK(o *wire.Order, id string, n int) Message {
	carrier := ""
	if o.Carrier != nil {
		carrier = o.Carrier.Name
	}
	return m(fmt.Sprintf("✓ 已交接 %s %s → %s (本笼第 %d 件)", carrier, o.Waybill.No, id, n),
		fmt.Sprintf("✓ Handed over %s %s → %s (parcel %d)", carrier, o.Waybill.No, id, n))
}

func msgNoPullLocation() Message {
	return m("请扫或填写放置位置 (异常区货位)", "Scan or enter where the parcel was put")
}

func msgNotToPull(o *wire.Order) Message {
	return m(fmt.Sprintf("订单 %s 没有被拦截,不用取出", o.OrderID), fmt.Sprintf("Order %s is not intercepted: no need to pull it", o.OrderID))
}

func msgPulled(o *wire.Order, loc string) Message {
	return m(fmt.Sprintf("已取出 %s → %s", orderLabel(o), loc), fmt.Sprintf("Pulled %s → %s", orderLabel(o), loc))
}

func msgBadCategory(c string) Message {
	return m("请选择异常类型", fmt.Sprintf("Unknown exception category %q", c))
}

func msgExceptionRecorded() Message { return m("异常已上报 ✓", "Exception reported ✓") }

func msgBadStep() Message {
	return m("计时步骤不完整", "A timed step needs a name, a start, and an end after the start")
}

func msgStepRecorded(step string, d time.Duration) Message {
	return m(fmt.Sprintf("已记录 %s (%.0f 秒)", step, d.Seconds()), fmt.Sprintf("Recorded %s (%.0f s)", step, d.Seconds()))
}

func msgBadAck() Message {
	return m("确认信息不完整", "An acknowledgement needs a subject, a role and when the popup was shown")
}

func msgAcked() Message { return m("已确认 ✓", "Acknowledged ✓") }
