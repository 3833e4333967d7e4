package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
	"github.com/menqian/menqian/service/photostore"
	"github.com/menqian/menqian/service/policy"
)

// The sample data of `menqian demo`: two real districts of Zibo with real road
// names, four months of history written through the service layer with a
// clock that walks through them (records are refused once a month's grace
// period is over, so each month is recorded while the clock is in it, then
// closed). Every road plays a part, so each page of the console has
// something to show: demonstration roads that qualify now and others that
// fail for one reason each, shops under 重点监管, serious items and their
// caps, appeals, reversals and rectification notices in every state.

// demoRole is what a road shows in the demonstration programme.
type demoRole int

const (
	roadModel      demoRole = iota // qualifies: good shops, all inspected, nothing overdue
	roadSerious                    // qualifies but for a serious item this month
	roadOverdue                    // qualifies but for an overdue rectification notice
	roadUnvisited                  // shops not yet inspected this month
	roadLow                        // average below 90 and stars low: weak shops
	roadRecovering                 // good scores now, stars still held down by last month's
	roadFew                        // fewer shops than a demonstration road needs
	roadPlain                      // an ordinary road, not designated
)

// demoRoadSpec is a road of a demo county; shops is its share of the county's
// shops (roadFew: the exact number).
type demoRoadSpec struct {
	name, town string
	role       demoRole
	demo       string // demonstration status at the end
	shops      int
}

// demoCounties are two real districts of Zibo with real road names.
var demoCounties = []struct {
	code, name string
	roads      []demoRoadSpec
	stories    []demoStory
}{
	{"370303", "张店区", []demoRoadSpec{
		{"柳泉路", "车站街道", roadModel, service.DemoAccepted, 24},
		{"人民西路", "公园街道", roadSerious, service.DemoAccepted, 22},
		{"共青团路", "和平街道", roadModel, service.DemoBuilding, 22},
		{"华光路", "科苑街道", roadOverdue, service.DemoBuilding, 22},
		{"金晶大道", "马尚街道", roadUnvisited, service.DemoCandidate, 20},
		{"新村西路", "体育场街道", roadLow, service.DemoRevoked, 20},
		{"中心路", "公园街道", roadPlain, service.DemoNone, 20},
	}, []demoStory{
		{n: 1, road: 5, temper: temperWatch, serious: []int{-2}, notices: []string{noticeOverdue},
			appeals: []demoAppeal{{offset: -1, outcome: models.AppealRejected, reason: appealReasons[0], note: appealNotes[0], photo: true}},
			label:   "重点监管 (below 60), capped by a serious item two months ago, an overdue notice, a rejected appeal"},
		{n: 2, road: 1, temper: temperSteady, serious: []int{0},
			appeals: []demoAppeal{{offset: 0, outcome: models.AppealPending, serious: true, reason: appealReasons[1], photo: true}},
			label:   "a serious item (ZXLH-05) this month caps it at 2★ and fails its road; the appeal is pending"},
		{n: 3, road: 0, temper: temperTop, honour: []int{-2}, notices: []string{noticeOpen}, certificate: true,
			appeals: []demoAppeal{{offset: -1, outcome: models.AppealAccepted, reason: appealReasons[2], note: appealNotes[2], photo: true}},
			label:   "5★ model shop on a qualified demonstration road: honour bonus, an accepted appeal, a credit certificate (信用证明) printed this month"},
		{n: 4, road: 3, temper: temperSteady, notices: []string{noticeFixed},
			appeals: []demoAppeal{{offset: 0, outcome: models.AppealAccepted, reason: appealReasons[3], note: appealNotes[3]}},
			label:   "reported a notice fixed with a photo (awaiting re-inspection), an appeal accepted this month"},
		{n: 5, road: 2, temper: temperImproving,
			appeals: []demoAppeal{{offset: 0, outcome: models.AppealPending, reason: appealReasons[4]}},
			label:   "improving month by month: the star rises one step at each monthly review; an appeal pending"},
		{n: 6, road: 6, temper: temperUneven,
			appeals: []demoAppeal{{offset: -2, outcome: models.AppealAccepted, reason: appealReasons[5], note: appealNotes[5]}},
			label:   "an ordinary shop between 80 and 95, an appeal accepted two months ago"},
		{n: 7, road: 3, temper: temperDip, notices: []string{noticeOverdue},
			appeals: []demoAppeal{{offset: -2, outcome: models.AppealRejected, reason: appealReasons[6], note: appealNotes[6]},
				{offset: 0, outcome: models.AppealRejected, reason: appealReasons[7], note: appealNotes[7], photo: true}},
			label: "an overdue notice (so 华光路 does not qualify), two rejected appeals"},
		{n: 8, road: 4, temper: temperSteady,
			appeals: []demoAppeal{{offset: 0, outcome: models.AppealPending, reason: appealReasons[8], photo: true}},
			label:   "an appeal pending"},
		{n: 9, road: 0, temper: temperTop, serious: []int{-2}, repair: true,
			label: "a serious item (ZXLH-05) two months ago, rectified the next day; its credit repair (信用修复) was granted last month, so no cap holds its star"},
	}},
	{"370302", "淄川区", []demoRoadSpec{
		{"松龄路", "般阳路街道", roadModel, service.DemoAccepted, 40},
		{"般阳路", "般阳路街道", roadRecovering, service.DemoCandidate, 36},
		{"淄川路", "松龄路街道", roadModel, service.DemoBuilding, 34},
		{"洪山路", "洪山镇", roadLow, service.DemoRevoked, 32},
		{"张博路", "将军路街道", roadFew, service.DemoCandidate, 8},
	}, []demoStory{
		{n: 1, road: 3, temper: temperWatch, notices: []string{noticeOverdue},
			appeals: []demoAppeal{{offset: -1, outcome: models.AppealRejected, reason: appealReasons[6], note: appealNotes[6], photo: true}},
			label:   "重点监管 (below 60), an overdue notice, a rejected appeal"},
		{n: 2, road: 1, temper: temperSteady, serious: []int{-1},
			appeals: []demoAppeal{{offset: -1, outcome: models.AppealAccepted, reason: appealReasons[2], note: appealNotes[2], photo: true}},
			label:   "a high score this month, but last month's serious item (ZXLH-05) caps it at 2★ this month and next"},
		{n: 3, road: 0, temper: temperTop, honour: []int{-1},
			appeals: []demoAppeal{{offset: -2, outcome: models.AppealAccepted, reason: appealReasons[5], note: appealNotes[5]}},
			label:   "5★ model shop on a qualified demonstration road, honour bonus"},
		{n: 4, road: 2, temper: temperSteady, notices: []string{noticeFixed},
			appeals: []demoAppeal{{offset: 0, outcome: models.AppealPending, reason: appealReasons[4], photo: true}},
			label:   "reported a notice fixed with a photo (awaiting re-inspection), an appeal pending"},
		{n: 5, road: 1, temper: temperRecovering,
			appeals: []demoAppeal{{offset: 0, outcome: models.AppealPending, reason: appealReasons[8]}},
			label:   "a good month after an 80s one: the star waits for the monthly review; an appeal pending"},
		{n: 6, road: 4, temper: temperSteady,
			appeals: []demoAppeal{{offset: 0, outcome: models.AppealAccepted, reason: appealReasons[3], note: appealNotes[3]}},
			label:   "on a road with too few shops to qualify, an appeal accepted this month"},
		{n: 7, road: 3, temper: temperStruggling,
			appeals: []demoAppeal{{offset: 0, outcome: models.AppealRejected, reason: appealReasons[7], note: appealNotes[7]}},
			label:   "a struggling shop in the 70s and 80s, an appeal rejected this month"},
		{n: 8, road: 0, temper: temperSteady, notices: []string{noticeOpen},
			appeals: []demoAppeal{{offset: 0, outcome: models.AppealPending, reason: appealReasons[1], photo: true}},
			label:   "an open notice not yet due, an appeal pending"},
	}},
}

// demoCenters are the districts' centres (latitude, longitude).
var demoCenters = [][2]float64{{36.8067, 118.0175}, {36.6434, 117.9665}}

var (
	demoShops = []string{"老王烧烤", "鑫源便利店", "博山菜馆", "周村烧饼", "华联超市", "小李理发", "惠民药房", "齐鲁五金",
		"丽人服饰", "阳光水果", "福满楼饭店", "家家乐面馆", "聚鲜海鲜", "兴隆茶叶", "金诚眼镜", "童趣玩具", "明远书店",
		"安心母婴", "康乐体育", "老街豆腐坊"}
	demoCategories = []string{"餐饮", "零售", "餐饮", "食品", "零售", "生活服务", "医药", "五金建材", "服装", "果蔬", "餐饮",
		"餐饮", "水产", "茶叶", "眼镜", "玩具", "文化", "母婴", "体育用品", "食品"}
	demoSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱"}
)

// What officers write beside each item.
var demoItemNotes = map[string][]string{
	"HJWS-01":  {"门前有烟头、纸屑未清扫", "店前地面油污、纸屑较多"},
	"HJWS-02":  {"垃圾桶满溢未及时清运", "向路边雨水口倾倒污水"},
	"HJWS-03":  {"厨余垃圾与其他垃圾混投"},
	"HJWS-04":  {"门前积雪未清除，行人通行不便"},
	"SRZJ-01":  {"店外墙面张贴小广告"},
	"SRZJ-02":  {"门前晾晒衣物", "店外乱拉横幅"},
	"SRZJ-03":  {"店招灯箱破损未修复", "店招部分字体不亮"},
	"SRZJ-04":  {"空调外机冷凝水滴落人行道", "遮阳棚破损下垂"},
	"SSWH-01":  {"卸货时撞坏人行道护栏"},
	"SSWH-02":  {"门前盲道砖松动未报修", "门前井盖缺损未报修"},
	"ZXLH-01":  {"店外摆放桌椅占道经营", "商品摆出店外约两米"},
	"ZXLH-02":  {"门前堆放纸箱杂物", "装修材料堆放在人行道"},
	"ZXLH-03":  {"门前电动车停放杂乱，未劝导", "共享单车堆在店门口"},
	"ZXLH-04":  {"使用高音喇叭招揽顾客"},
	"ZXLH-05":  {"多次劝导仍拒不整改占道经营", "拒不配合执法人员检查"},
	"LHMG-01":  {"在行道树上悬挂广告牌", "树上晾挂物品"},
	"LHMG-02":  {"占用绿化带堆放杂物"},
	"BONUS-01": {"参加社区“门前五包”志愿服务", "参加文明交通志愿劝导"},
	"BONUS-02": {"劝阻路人乱扔垃圾", "举报流动摊贩占道"},
	"BONUS-03": {"主动清扫公共区域", "主动整理门前共享单车"},
	"BONUS-04": {"获评区级文明诚信商户"},
}

// How often an item is found, relative to the others.
var demoRuleWeights = map[string]float64{"HJWS-01": 5, "ZXLH-02": 4, "ZXLH-01": 3, "ZXLH-03": 3, "SRZJ-02": 2, "HJWS-03": 2,
	"SRZJ-03": 2, "SRZJ-04": 2, "HJWS-02": 1.5, "SRZJ-01": 1.5, "LHMG-02": 1.5, "HJWS-04": 3, "SSWH-02": 1, "ZXLH-04": 1,
	"LHMG-01": 1, "SSWH-01": 0.5}

var (
	demoInspectionNotes = []string{"现场已责令整改", "已当场整改", "已告知商户整改要求", "", ""}
	demoReversalReasons = []string{
		"复核：该处垃圾为环卫清运时散落，非本店责任",
		"复核：照片所示为相邻商户门前，记录对象有误",
		"录入错误：重复记录，同一问题当日已登记",
		"复核：为流动摊贩占道，非本店经营行为",
	}
	demoBonusReversal = "复核：志愿服务记录无法核实，撤销加分"
	appealReasons     = []string{
		"照片中的杂物是隔壁装修公司堆放的，不是本店的",
		"当天家中有急事未能及时整改，并非拒不配合，现已全部整改，请求复核",
		"当天是环卫车清运时撒落的，我们发现后马上清扫了，附清扫后照片",
		"门前是公交站台，乘客留下的垃圾不应算在本店",
		"当时只是临时卸货，十分钟内已全部搬进店内",
		"检查时我店尚未开门营业，门前杂物不是本店的",
		"招牌是被大风吹坏的，已联系厂家维修",
		"电动车是路人停放的，我们已经劝导过",
		"遮阳棚是按街道统一要求安装的，请核实",
	}
	appealNotes = []string{
		"经调取执法记录仪视频核实，杂物为本店货物，维持扣分",
		"",
		"经核实为清运散落，撤销扣分",
		"经现场核实为公交站候车乘客所弃，撤销扣分",
		"",
		"经核实检查时间为营业前，撤销扣分",
		"扣分时招牌已损坏超过一周未报修，维持扣分",
		"巡查记录显示当时无人劝导，维持扣分",
		"",
	}
)

// Story notices.
const (
	noticeOverdue = "overdue" // past its deadline, not fixed
	noticeFixed   = "fixed"   // the merchant reported it fixed, awaiting re-inspection
	noticeOpen    = "open"    // not due yet
)

// demoStory is a shop with an account and a history worth opening.
type demoStory struct {
	n       int // its account is shop{county code}{n}
	road    int
	temper  demoTemper
	serious []int // offsets from the current cycle (0) of the months with a serious item
	honour  []int // offsets of the months with an honour bonus (BONUS-04)
	notices []string
	appeals []demoAppeal
	// repair: the serious item is rectified at once, and the merchant's
	// credit repair (信用修复) is applied for and granted in the month after.
	repair bool
	// certificate: the merchant prints a credit certificate (信用证明) this month.
	certificate bool
	label       string
}

// demoAppeal is an appeal of the first deduction of a month (the serious one
// when serious).
type demoAppeal struct {
	offset       int
	outcome      string
	serious      bool
	reason, note string
	photo        bool
}

// demoTemper is how a shop does month after month.
type demoTemper int

const (
	temperSteady     demoTemper = iota // 92–104
	temperTop                          // 97–104
	temperDip                          // steady with one month in the 80s, two or more months ago
	temperUneven                       // 80s and 90s
	temperStruggling                   // 70s and 80s
	temperFalling                      // 90s, then 80s, then 70s
	temperImproving                    // 80s, then 90s, then 5★ scores
	temperRecovering                   // 80s last month, good now
	temperWatch                        // 重点监管 the last months
	temperReformed                     // a serious item in the oldest month, good since
)

// demoBand is the range a shop's score falls in one month.
type demoBand int

const (
	bandTop demoBand = iota
	bandGood
	bandFair
	bandPoor
	bandWatch
)

func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "Load Zibo sample data into an empty database and print the logins: 张店区 and 淄川区, 12 roads,\n"+
		"300 shops with valid USCCs, officers on their roads and merchant accounts; three closed months\n"+
		"and the current one of inspections with photos, bonuses, serious items, reversals, appeals,\n"+
		"rectification notices and demonstration roads in every state; a granted credit repair, a random\n"+
		"audit with its auditor's visits and a credit certificate.", stdout)
	perCounty := fs.Int("merchants", 150, fmt.Sprintf("shops per county (%d–%d)", demoMinShops, demoMaxShops))
	seed := fs.Uint64("seed", 2026, "random seed: the same seed loads the same data")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *perCounty < demoMinShops || *perCounty > demoMaxShops {
		return fmt.Errorf("demo: -merchants must be between %d and %d", demoMinShops, demoMaxShops)
	}
	a, err := openApp(ctx, getenv, stderr, true)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.checkPhotos(ctx); err != nil {
		return err
	}
	city := service.Actor{Role: service.RoleCityAdmin}
	if cs, err := a.svc.Counties(ctx, city); err != nil {
		return err
	} else if len(cs) > 0 {
		return errors.New("demo: the database already has counties; demo loads only into an empty database")
	}
	adminPW, _, err := a.svc.Bootstrap(ctx, a.cfg.AdminPassword)
	if err != nil {
		return err
	}
	secret, err := service.LoadSecret(ctx, a.db, a.cfg.Secret)
	if err != nil {
		return err
	}
	pw, err := service.RandomPassword()
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := loadDemo(ctx, demoOptions{DB: a.db, Policy: a.policy, Secret: secret, Photos: a.photos,
		PublicURL: a.cfg.PublicURL, Logger: a.log, Now: start, Seed: *seed, PerCounty: *perCounty, Password: pw})
	if err != nil {
		return err
	}
	if a.redis != nil {
		if err := a.svc.RebuildLeaderboards(ctx); err != nil {
			return err
		}
	}
	admin := demoLogin{Username: "admin", Role: service.RoleCityAdmin, Note: "password: MENQIAN_ADMIN_PASSWORD, or the one printed at first start"}
	if adminPW != "" {
		admin.Note = "password " + adminPW + " (shown once)"
	}
	res.Logins = append(res.Logins, admin)
	res.print(stdout, time.Since(start))
	return nil
}

// Bounds of -merchants: every road but the short one needs room for ten
// shops and more, and USCC serial numbers stay apart between counties.
const (
	demoMinShops = 90
	demoMaxShops = 1000
)

// demoOptions are what loadDemo needs.
type demoOptions struct {
	DB           *models.DB
	Policy       *policy.Policy
	Secret       []byte
	Photos       photostore.Store
	PublicURL    string
	Logger       *slog.Logger
	Now          time.Time // the present: the data ends here, in its cycle
	Seed         uint64
	PerCounty    int
	Password     string // every demo account's
	PasswordCost int    // bcrypt cost; 0: the default (tests use the minimum)
}

// demoLogin is an account printed for the user.
type demoLogin struct {
	Username, Role, County, Note string
}

// demoResult says what loadDemo loaded.
type demoResult struct {
	Password    string
	Cycles      []string // oldest first; the current one last
	Closed      []string
	Counties    int
	Roads       int
	Merchants   int
	Inspections int
	Entries     int
	Photos      int
	Reversals   int            // by county admins (accepted appeals reverse too, not counted here)
	Appeals     map[string]int // by status
	// Rectification notices: open and not due, overdue now, reported fixed
	// by the merchant (awaiting re-inspection), confirmed fixed.
	NoticesOpen, NoticesOverdue, NoticesReported, NoticesRectified int
	Logins                                                         []demoLogin
	UnderWatch                                                     int // shops below 60 now
	Capped                                                         int // shops whose star a serious item caps now
	Qualified                                                      []string
	Failing                                                        []string // designated roads that do not qualify now, with why
	// Fair to merchants: credit repairs granted, random audits drawn and
	// their visits, credit certificates issued (and the last one's
	// verification URL).
	Repairs, SpotChecks, Visits, Certificates int
	CertificateURL                            string
}

// demoClock is the loader's service clock: it stands where the current event happens.
type demoClock struct{ ns atomic.Int64 }

func (c *demoClock) now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *demoClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }

// demoEvent is one thing that happens at a time; events run in time order
// (see loadDemo for the inspections). An inspection has ins set instead of
// run; shop is the shop another event concerns, if any; a barrier (closing
// a cycle) concerns everything.
type demoEvent struct {
	at      time.Time
	seq     int
	what    string
	run     func(ctx context.Context) error
	ins     *demoInspection
	shop    *demoShop
	barrier bool
}

// demoWave bounds the inspections recorded together (the recorder's batch).
const demoWave = 64

type demoCounty struct {
	id       int64
	code     string
	name     string
	admin    service.Actor
	officers []service.Actor
	auditor  service.Actor // its auditor (抽查员), if it has one
	roads    []*demoRoad
	shops    []*demoShop
}

type demoRoad struct {
	id       int64
	spec     demoRoadSpec
	county   *demoCounty
	officer  int // index of its responsible officer
	shops    []*demoShop
	numbered int // house numbers given
}

type demoShop struct {
	id      int64
	name    string
	owner   string
	uscc    string
	county  *demoCounty
	road    *demoRoad
	story   *demoStory
	temper  demoTemper
	account service.Actor // merchant account, when it has one
	created policy.Cycle  // the month it was registered in
	isNew   bool          // registered this month
	closes  bool          // closes last month
	// skip[i]: not inspected in cycle i (of demoLoader.cycles).
	skip []bool
	// months[i] is the plan of cycle i.
	months []*demoMonth
}

// demoMonth is a shop's plan for one cycle.
type demoMonth struct {
	band        demoBand
	inspections []*demoInspection
}

// demoInspection is a planned inspection; its id is known once it ran.
type demoInspection struct {
	shop    *demoShop
	frac    float64
	officer int
	items   []service.InspectionItem
	note    string
	seeds   []uint64 // of its evidence photos
	photo   []int64  // uploaded evidence, once it ran
	id      int64
}

// demoLoader plans the data with one random stream, then runs it in time order.
type demoLoader struct {
	o       demoOptions
	svc     *service.Service
	db      *models.DB
	pol     *policy.Policy
	clock   *demoClock
	rng     *rand.Rand
	now     time.Time
	cycles  []policy.Cycle // oldest first, the current one last
	closing []policy.Cycle // the past cycles to close
	events  []demoEvent
	city    service.Actor
	res     demoResult
	rules   []policy.Item // deductions (not serious) and bonuses, in catalogue order
}

// loadDemo writes the sample data into an empty, migrated database. Its
// present is o.Now; with the same o.Now, seed and size it writes the same data.
func loadDemo(ctx context.Context, o demoOptions) (demoResult, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l := &demoLoader{o: o, db: o.DB, pol: o.Policy, clock: &demoClock{}, rng: rand.New(rand.NewPCG(o.Seed, 11)),
		now: o.Now.UTC().Truncate(time.Second)}
	l.svc = service.New(service.Options{DB: o.DB, Policy: o.Policy, Secret: o.Secret, Photos: o.Photos,
		PublicURL: o.PublicURL, Clock: l.clock.now, Logger: o.Logger, PasswordCost: o.PasswordCost})
	l.res = demoResult{Password: o.Password, Appeals: map[string]int{}}
	for _, it := range o.Policy.Items {
		if !it.Serious {
			l.rules = append(l.rules, it)
		}
	}
	l.city = service.Actor{Role: service.RoleCityAdmin}
	if u, err := o.DB.UserByUsername(ctx, "admin"); err == nil && u.Role == service.RoleCityAdmin {
		l.city.UserID, l.city.Username = u.ID, u.Username
	}

	// Three closed months before the current one; when the previous month is
	// still in its grace period it stays open (the service closes it after)
	// and one more month is loaded, so three are closed all the same.
	cur := o.Policy.CycleOf(l.now)
	past := 3
	if !l.closable(cur.Prev()) {
		past = 4
	}
	for i := past; i >= 1; i-- {
		l.cycles = append(l.cycles, cur.Add(-i))
	}
	l.cycles = append(l.cycles, cur)
	for _, c := range l.cycles[:len(l.cycles)-1] {
		if l.closable(c) {
			l.closing = append(l.closing, c)
		}
	}
	for _, c := range l.cycles {
		l.res.Cycles = append(l.res.Cycles, c.String())
	}

	// Accounts, roads and shops are registered on the first working morning.
	l.clock.set(l.at(l.cycles[0], 0))
	var counties []*demoCounty
	for ci := range demoCounties {
		c, err := l.register(ctx, ci)
		if err != nil {
			return l.res, err
		}
		counties = append(counties, c)
	}
	for _, c := range counties {
		l.plan(c)
	}
	for _, c := range l.closing {
		l.events = append(l.events, demoEvent{at: o.Policy.GraceEnd(c).Add(time.Minute), seq: len(l.events), what: "close " + c.String(),
			barrier: true, run: func(ctx context.Context) error {
				_, err := l.svc.CloseCycle(ctx, c, "demo")
				l.res.Closed = append(l.res.Closed, c.String())
				return err
			}})
	}
	slices.SortStableFunc(l.events, func(a, b demoEvent) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq))
	})
	// Inspections of different shops run together in waves (see inspect):
	// a wave takes the next inspections of shops it has not met yet, and
	// what else happens meanwhile runs right after it, in time order, unless
	// it must wait for an inspection left for a later wave (one of its shop's
	// comes first). Closing a cycle waits for everything before it.
	run := func(ev demoEvent) error {
		l.clock.set(ev.at)
		if err := ev.run(ctx); err != nil {
			return fmt.Errorf("demo, %s at %s: %w", ev.what, ev.at.In(o.Policy.Location()).Format("2006-01-02 15:04"), err)
		}
		return nil
	}
	pending := l.events
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return l.res, err
		}
		if pending[0].ins == nil {
			if err := run(pending[0]); err != nil {
				return l.res, err
			}
			pending = pending[1:]
			continue
		}
		const met, waiting = 1, 2
		shops := map[*demoShop]int{}
		var wave, after, rest []demoEvent
		k := 0
		// A wave keeps to one day: an officer's phone sends a day's records
		// that day, and they are stored at the time of the day's last.
		day := l.day(pending[0].at)
		for ; k < len(pending) && len(wave) < demoWave && !pending[k].barrier && l.day(pending[k].at) == day; k++ {
			ev := pending[k]
			switch {
			case ev.shop != nil && shops[ev.shop] == waiting:
				rest = append(rest, ev)
			case ev.ins != nil && shops[ev.shop] == met:
				shops[ev.shop] = waiting
				rest = append(rest, ev)
			case ev.ins != nil:
				shops[ev.shop] = met
				wave = append(wave, ev)
			default:
				if ev.shop != nil {
					shops[ev.shop] = met
				}
				after = append(after, ev)
			}
		}
		if err := l.inspect(ctx, wave); err != nil {
			return l.res, err
		}
		for _, ev := range after {
			if err := run(ev); err != nil {
				return l.res, err
			}
		}
		pending = append(rest, pending[k:]...)
	}
	l.clock.set(l.now)
	return l.res, l.summarize(ctx, counties)
}

// day is the local date of t.
func (l *demoLoader) day(t time.Time) string { return t.In(l.pol.Location()).Format(time.DateOnly) }

// closable reports whether cycle c's grace period ended a minute before now.
func (l *demoLoader) closable(c policy.Cycle) bool {
	return l.pol.IsClosed(c, l.now.Add(-time.Minute))
}

// add schedules an event.
func (l *demoLoader) add(at time.Time, shop *demoShop, what string, run func(ctx context.Context) error) {
	l.events = append(l.events, demoEvent{at: at, seq: len(l.events), what: what, run: run, shop: shop})
}

// at maps frac in [0, 1) onto the working hours (08:30–18:00) of cycle c, up
// to a few minutes before now for the current cycle.
func (l *demoLoader) at(c policy.Cycle, frac float64) time.Time {
	loc := l.pol.Location()
	start, end := l.pol.CycleStart(c), l.pol.CycleStart(c.Next())
	if limit := l.now.Add(-5 * time.Minute); end.After(limit) {
		end = limit
	}
	if !end.After(start) {
		end = l.now
	}
	type span struct{ from, to time.Time }
	var spans []span
	var total time.Duration
	for d := start.In(loc); d.Before(end); d = d.AddDate(0, 0, 1) {
		day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
		from, to := day.Add(8*time.Hour+30*time.Minute), day.Add(18*time.Hour)
		if from.Before(start) {
			from = start
		}
		if to.After(end) {
			to = end
		}
		if to.After(from) {
			spans = append(spans, span{from, to})
			total += to.Sub(from)
		}
	}
	if total < time.Hour { // the month began moments ago: use all of it
		return start.Add(time.Duration(frac * float64(end.Sub(start)))).Truncate(time.Second)
	}
	left := time.Duration(frac * float64(total))
	for _, s := range spans {
		if left < s.to.Sub(s.from) {
			return s.from.Add(left).Truncate(time.Second).UTC()
		}
		left -= s.to.Sub(s.from)
	}
	return spans[len(spans)-1].to.Add(-time.Minute).UTC()
}

// daysAgo is 10:00 (plus minutes) on the day d days before now: the story
// notices are dated from now, so that "overdue" and "not yet due" hold
// whenever the demo is loaded.
func (l *demoLoader) daysAgo(d int, minutes int) time.Time {
	loc := l.pol.Location()
	t := l.now.In(loc).AddDate(0, 0, -d)
	at := time.Date(t.Year(), t.Month(), t.Day(), 10, minutes, 0, 0, loc).UTC()
	if limit := l.now.Add(-10 * time.Minute); at.After(limit) {
		at = limit
	}
	return at
}

// register creates a county with its accounts, roads and shops.
func (l *demoLoader) register(ctx context.Context, ci int) (*demoCounty, error) {
	spec := demoCounties[ci]
	code, name := spec.code, spec.name
	county, err := l.svc.CreateCounty(ctx, l.city, service.CountyInput{Code: &code, Name: &name})
	if err != nil {
		return nil, fmt.Errorf("demo county %s: %w", name, err)
	}
	c := &demoCounty{id: county.ID, code: code, name: name}
	l.res.Counties++
	mkUser := func(username, role string, merchantID *int64, display, note string) (models.User, error) {
		in := service.UserInput{Username: username, Password: l.o.Password, Role: role, MerchantID: merchantID, DisplayName: display}
		if merchantID == nil {
			in.CountyID = &c.id
		}
		u, err := l.svc.CreateUser(ctx, l.city, in)
		if err != nil {
			return u, fmt.Errorf("demo account %s: %w", username, err)
		}
		l.res.Logins = append(l.res.Logins, demoLogin{Username: username, Role: role, County: name, Note: note})
		return u, nil
	}
	u, err := mkUser("admin"+code, service.RoleCountyAdmin, nil, name+"城管局", "")
	if err != nil {
		return nil, err
	}
	c.admin = service.Actor{UserID: u.ID, Username: u.Username, Role: service.RoleCountyAdmin, CountyID: c.id}
	for i := 1; i <= 2; i++ {
		display := demoSurnames[i+ci*3] + "巡查员"
		u, err := mkUser(fmt.Sprintf("officer%s%d", code, i), service.RoleOfficer, nil, display, "")
		if err != nil {
			return nil, err
		}
		c.officers = append(c.officers, service.Actor{UserID: u.ID, Username: u.Username, Role: service.RoleOfficer, CountyID: c.id})
	}
	counts := demoRoadCounts(spec.roads, l.o.PerCounty)
	for i, rs := range spec.roads {
		rn, town, length := rs.name, rs.town, 600+l.rng.IntN(1800)
		offs := []int64{c.officers[i%len(c.officers)].UserID}
		road, err := l.svc.CreateRoad(ctx, l.city, service.RoadInput{CountyID: &c.id, Name: &rn, Town: &town, LengthM: &length, OfficerIDs: &offs})
		if err != nil {
			return nil, fmt.Errorf("demo road %s: %w", rn, err)
		}
		c.roads = append(c.roads, &demoRoad{id: road.ID, spec: rs, county: c, officer: i % len(c.officers)})
		l.res.Roads++
	}
	// Each officer's login names the roads it answers for (定人定责).
	for i := range c.officers {
		var roads []string
		for _, r := range c.roads {
			if r.officer == i {
				roads = append(roads, r.spec.name)
			}
		}
		l.res.Logins[len(l.res.Logins)-len(c.officers)+i].Note = strings.Join(roads, "、")
	}
	if ci == 0 { // the first county runs random audits (抽查)
		u, err := mkUser("auditor"+code, service.RoleAuditor, nil, "赵抽查员",
			"random audits (抽查): this month's sample, three shops visited, the rest to do; blind to scores and officers")
		if err != nil {
			return nil, err
		}
		c.auditor = service.Actor{UserID: u.ID, Username: u.Username, Role: service.RoleAuditor, CountyID: c.id}
	}

	// Shops join the roads in turn, each road in proportion to its share
	// (smooth weighted round robin), the stories first on their roads.
	order := demoRoadOrder(counts)
	stories := map[int][]*demoStory{}
	for i := range spec.stories {
		st := &spec.stories[i]
		stories[st.road] = append(stories[st.road], st)
	}
	newShops := map[int]bool{} // the last shops of the plain and unvisited roads register this month
	for ri, r := range c.roads {
		if r.spec.role == roadPlain || r.spec.role == roadUnvisited {
			for i := len(order) - 1; i >= 0; i-- {
				if order[i] == ri {
					newShops[i] = true
					break
				}
			}
		}
	}
	// The register is imported as the county office would, from a
	// spreadsheet; the shops that open this month are registered one by one.
	var register bytes.Buffer
	csvw := csv.NewWriter(&register)
	csvw.Write(service.ImportHeader())
	for i, ri := range order {
		r := c.roads[ri]
		k := l.rng.IntN(len(demoShops))
		r.numbered++
		number := 2*r.numbered - 1
		s := &demoShop{county: c, road: r, uscc: demoUSCC(code, ci*1000+i), created: l.cycles[0],
			name: fmt.Sprintf("%s（%s%d号）", demoShops[k], r.spec.name, number)}
		if q := stories[ri]; len(q) > 0 {
			s.story, stories[ri] = q[0], q[1:]
		}
		cat, owner := demoCategories[k], demoSurnames[l.rng.IntN(len(demoSurnames))]+"先生"
		if l.rng.IntN(3) == 0 {
			owner = strings.TrimSuffix(owner, "先生") + "女士"
		}
		s.owner = owner
		phone := fmt.Sprintf("13%d%08d", 5+l.rng.IntN(5), l.rng.IntN(100_000_000))
		addr := name + r.spec.name + fmt.Sprintf("%d号", number)
		// Along the road from its start, a few metres a house number.
		lat := demoCenters[ci][0] + 0.004*float64(ri-2) + 0.00004*float64(number)*float64(ri%2)
		lng := demoCenters[ci][1] + 0.005*float64(ri-2) + 0.00005*float64(number)*float64(1-ri%2)
		s.isNew = newShops[i] && s.story == nil
		c.shops = append(c.shops, s)
		r.shops = append(r.shops, s)
		l.res.Merchants++
		if !s.isNew {
			csvw.Write([]string{s.name, r.spec.name, s.uscc, cat, owner, phone, addr,
				strconv.FormatFloat(lat, 'f', 6, 64), strconv.FormatFloat(lng, 'f', 6, 64)})
			continue
		}
		s.created = l.cycles[len(l.cycles)-1]
		in := service.MerchantInput{RoadID: &r.id, Name: &s.name, USCC: &s.uscc, Category: &cat, OwnerName: &owner, Phone: &phone,
			Address: &addr, Lat: &lat, Lng: &lng}
		l.add(l.at(s.created, 0.15+0.01*float64(ri)), s, "register "+s.name, func(ctx context.Context) error {
			m, err := l.svc.CreateMerchant(ctx, c.admin, in)
			s.id = m.ID
			return err
		})
	}
	csvw.Flush()
	rep, err := l.svc.ImportMerchants(ctx, c.admin, c.id, "csv", &register, true)
	if err != nil || len(rep.Errors) > 0 || len(rep.Duplicates) > 0 {
		return nil, fmt.Errorf("demo register of %s: %v %+v %+v", name, err, rep.Errors, rep.Duplicates)
	}
	var usccs []string
	for _, s := range c.shops {
		usccs = append(usccs, s.uscc)
	}
	byUSCC, err := l.db.MerchantsByUSCC(ctx, usccs)
	if err != nil {
		return nil, err
	}
	for _, s := range c.shops {
		s.id = byUSCC[s.uscc].ID
		if s.story == nil {
			continue
		}
		login := fmt.Sprintf("shop%s%d", code, s.story.n)
		u, err := mkUser(login, service.RoleMerchant, &s.id, "", s.name+": "+s.story.label)
		if err != nil {
			return nil, err
		}
		s.account = service.Actor{UserID: u.ID, Username: login, Role: service.RoleMerchant, MerchantID: s.id}
	}
	slices.SortStableFunc(l.res.Logins, func(a, b demoLogin) int {
		return cmp.Or(cmp.Compare(demoLoginRank(a), demoLoginRank(b)), cmp.Compare(a.Username, b.Username))
	})
	return c, nil
}

// demoLoginRank orders the logins: each county's admin, officers, auditor, then shops.
func demoLoginRank(d demoLogin) int {
	rank := map[string]int{service.RoleCountyAdmin: 0, service.RoleOfficer: 1, service.RoleAuditor: 2, service.RoleMerchant: 3}[d.Role]
	ci := 0
	for i, c := range demoCounties {
		if c.name == d.County {
			ci = i
		}
	}
	return ci*10 + rank
}

// demoRoadCounts splits a county's shops between its roads: the short road
// gets its exact number, the others their share, largest remainders first.
func demoRoadCounts(roads []demoRoadSpec, total int) []int {
	counts := make([]int, len(roads))
	weights, left := 0, total
	for i, r := range roads {
		if r.role == roadFew {
			counts[i] = r.shops
			left -= r.shops
		} else {
			weights += r.shops
		}
	}
	type rem struct{ i, r int }
	var rems []rem
	given := 0
	for i, r := range roads {
		if r.role != roadFew {
			counts[i] = left * r.shops / weights
			given += counts[i]
			rems = append(rems, rem{i, left * r.shops % weights})
		}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.r, a.r) })
	for k := 0; k < left-given; k++ {
		counts[rems[k].i]++
	}
	return counts
}

// demoRoadOrder interleaves roads by their counts (smooth weighted round robin).
func demoRoadOrder(counts []int) []int {
	total := 0
	for _, n := range counts {
		total += n
	}
	cur := make([]int, len(counts))
	left := slices.Clone(counts)
	out := make([]int, 0, total)
	for len(out) < total {
		best := -1
		for i, n := range counts {
			if left[i] == 0 {
				continue
			}
			cur[i] += n
			if best < 0 || cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		left[best]--
		out = append(out, best)
	}
	return out
}

// plan draws every shop's months and schedules what happens in the county.
func (l *demoLoader) plan(c *demoCounty) {
	n := len(l.cycles)
	curIdx := n - 1
	offset := func(i int) int { return i - curIdx } // 0: the current cycle
	for _, r := range c.roads {
		tempers := l.roadTempers(r)
		k := 0
		for _, s := range r.shops {
			if s.story != nil {
				s.temper = s.story.temper
			} else {
				s.temper, k = tempers[k], k+1
			}
		}
		l.roadSkips(r)
	}
	// The plain road's oldest ordinary shop closes last month.
	for _, r := range c.roads {
		if r.spec.role != roadPlain {
			continue
		}
		for _, s := range r.shops[1:] {
			if s.story == nil && !s.isNew && s.temper != temperWatch {
				s.closes = true
				s.skip[curIdx] = true
				at := l.at(l.cycles[curIdx-1], 0.6)
				l.add(at, s, "close "+s.name, func(ctx context.Context) error {
					closed := "closed"
					_, err := l.svc.UpdateMerchant(ctx, c.admin, s.id, service.MerchantInput{Status: &closed})
					return err
				})
				break
			}
		}
	}
	for _, s := range c.shops {
		s.months = make([]*demoMonth, n)
		for i := range l.cycles {
			if l.cycles[i].Before(s.created) {
				continue
			}
			s.months[i] = l.planMonth(s, i, offset(i))
		}
	}
	l.planDemonstration(c)
	// Events of each shop and month, in plan order.
	for _, s := range c.shops {
		for i, m := range s.months {
			if m == nil {
				continue
			}
			for _, in := range m.inspections {
				l.scheduleInspection(s, l.cycles[i], in)
			}
		}
	}
	for i := range l.cycles {
		l.planReversals(c, i)
		l.planNotices(c, i)
	}
	for _, s := range c.shops {
		if s.story == nil {
			continue
		}
		for _, ap := range s.story.appeals {
			l.planAppeal(s, curIdx+ap.offset, ap)
		}
		for _, kind := range s.story.notices {
			l.planStoryNotice(s, kind)
		}
		if s.story.repair {
			l.planRepair(s)
		}
		if s.story.certificate {
			l.planCertificate(s)
		}
	}
	l.planOpenNotices(c)
	if c.auditor.UserID != 0 {
		l.planSpotCheck(c)
	}
}

// roadTempers draws the tempers of a road's ordinary shops from its role.
func (l *demoLoader) roadTempers(r *demoRoad) []demoTemper {
	n := len(r.shops)
	for _, s := range r.shops {
		if s.story != nil {
			n--
		}
	}
	var out []demoTemper
	fill := func(t demoTemper, share float64) {
		for k := int(float64(n)*share + 0.5); k > 0 && len(out) < n; k-- {
			out = append(out, t)
		}
	}
	switch r.spec.role {
	case roadModel:
		if r == r.county.roads[0] {
			out = append(out, temperReformed)
		}
		fill(temperDip, 0.15)
	case roadSerious, roadOverdue, roadFew:
		fill(temperDip, 0.15)
	case roadUnvisited:
		fill(temperDip, 0.25)
	case roadRecovering:
		fill(temperRecovering, 0.4)
	case roadLow:
		if !slices.ContainsFunc(r.county.roads, func(o *demoRoad) bool { return o.spec.role == roadPlain }) {
			out = append(out, temperWatch) // the county's second shop under 重点监管
		}
		fill(temperUneven, 0.35)
		fill(temperStruggling, 0.3)
		fill(temperFalling, 0.1)
	case roadPlain:
		out = append(out, temperWatch)
		fill(temperUneven, 0.3)
		fill(temperStruggling, 0.15)
		fill(temperFalling, 0.05)
	}
	for len(out) < n {
		out = append(out, temperSteady)
	}
	out = out[:n]
	l.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// roadSkips decides which shops go uninspected in which month: none on the
// roads that must show everyone inspected, some elsewhere.
func (l *demoLoader) roadSkips(r *demoRoad) {
	curIdx := len(l.cycles) - 1
	for _, s := range r.shops {
		s.skip = make([]bool, len(l.cycles))
		if s.story != nil {
			continue
		}
		switch r.spec.role {
		case roadUnvisited:
			s.skip[curIdx] = l.rng.IntN(10) < 3
		case roadLow, roadPlain:
			for i := range s.skip {
				s.skip[i] = l.rng.IntN(100) < 8
			}
			s.skip[curIdx] = l.rng.IntN(10) < 2
		}
		if s.isNew && r.spec.role == roadUnvisited {
			s.skip[curIdx] = true // registered this month, not inspected yet
		}
		if s.temper == temperWatch {
			clear(s.skip) // 重点监管 shops are never missed
		}
	}
}

// band is the score band of a shop in the month at offset (0: the current one).
func (l *demoLoader) band(s *demoShop, offset int) demoBand {
	pick := func(a, b demoBand, pa int) demoBand {
		if l.rng.IntN(100) < pa {
			return a
		}
		return b
	}
	steady := func() demoBand { return pick(bandTop, bandGood, 45) }
	switch s.temper {
	case temperTop:
		return bandTop
	case temperDip:
		if offset == -2 && l.rng.IntN(2) == 0 || offset == -3 {
			return bandFair
		}
		return steady()
	case temperUneven:
		return pick(bandGood, bandFair, 55)
	case temperStruggling:
		return pick(bandFair, bandPoor, 50)
	case temperFalling:
		switch {
		case offset <= -2:
			return bandGood
		case offset == -1:
			return bandFair
		}
		return bandPoor
	case temperImproving:
		switch {
		case offset <= -2:
			return bandFair
		case offset == -1:
			return bandGood
		}
		return bandTop
	case temperRecovering:
		switch {
		case offset <= -2:
			return pick(bandGood, bandFair, 50)
		case offset == -1:
			return bandFair
		}
		return steady()
	case temperWatch:
		switch {
		case offset <= -3:
			return bandPoor
		case offset == -2:
			return pick(bandWatch, bandPoor, 50)
		}
		return bandWatch
	case temperReformed:
		if offset == -len(l.cycles)+1 {
			return bandFair
		}
	}
	return steady()
}

// planMonth draws what a shop's inspections find in the month at index i.
func (l *demoLoader) planMonth(s *demoShop, i, offset int) *demoMonth {
	m := &demoMonth{band: l.band(s, offset)}
	if s.skip[i] {
		return m
	}
	var ded, bonus int
	switch m.band {
	case bandTop: // often nothing to deduct: the 红榜
		ded, bonus = max(l.rng.IntN(7)-3, 0), 1+l.rng.IntN(4)
	case bandGood:
		ded, bonus = 2+l.rng.IntN(7), l.rng.IntN(3)
	case bandFair:
		ded, bonus = 12+l.rng.IntN(8), l.rng.IntN(2)
	case bandPoor:
		ded = 22 + l.rng.IntN(12)
	case bandWatch:
		ded = 44 + l.rng.IntN(12)
	}
	c := l.cycles[i]
	serious := s.story != nil && slices.Contains(s.story.serious, offset) ||
		s.temper == temperReformed && i == 0 ||
		s.story == nil && s.temper == temperStruggling && offset == -1 && s == l.firstOf(s.road, temperStruggling)
	appealed := false
	if s.story != nil {
		for _, ap := range s.story.appeals {
			appealed = appealed || ap.offset == offset
		}
	}
	if appealed && ded < 2 {
		ded = 2
	}
	var items []service.InspectionItem
	if serious {
		p := 10 + l.rng.IntN(3)
		if m.band >= bandPoor {
			ded = max(ded-p, 0)
		}
		items = append(items, l.item("ZXLH-05", p))
	}
	items = append(items, l.split(ded, c, policy.Deduction)...)
	if s.story != nil && slices.Contains(s.story.honour, offset) {
		items = append(items, l.item("BONUS-04", 5))
		bonus = max(bonus-5, 0)
	}
	items = append(items, l.split(bonus, c, policy.Bonus)...)
	if len(items) == 0 {
		items = append(items, l.split(1, c, policy.Bonus)...)
	}

	// A patrol a month finds something at a good shop, now and then two;
	// one to three at a weaker one (fewer so far in the current month).
	k := 1
	switch {
	case m.band >= bandFair && offset < 0:
		k = 1 + l.rng.IntN(3)
	case m.band >= bandFair || l.rng.IntN(4) == 0:
		k = 2
	}
	k = min(k, len(items))
	fracs := make([]float64, k)
	for j := range fracs {
		fracs[j] = 0.02 + 0.93*l.rng.Float64()
	}
	slices.Sort(fracs)
	switch {
	case s.isNew:
		for j := range fracs {
			fracs[j] = 0.4 + fracs[j]*0.55
		}
	case s.closes && offset == -1:
		for j := range fracs {
			fracs[j] *= 0.55
		}
	case appealed: // the appealed inspection comes early, leaving time to decide
		fracs[0] = min(fracs[0], 0.1+0.25*l.rng.Float64())
	}
	ins := make([]*demoInspection, k)
	for j := range ins {
		officer := s.road.officer
		if l.rng.IntN(10) == 0 {
			officer = (officer + 1) % len(s.county.officers)
		}
		ins[j] = &demoInspection{frac: fracs[j], officer: officer}
	}
	// The lead items (a serious one and the first other deduction: what
	// appeals contest) go to the first inspection; every other inspection
	// finds at least one of the rest.
	lead := 1
	if serious && len(items) > 1 && l.isDeduction(items[1]) {
		lead = 2
	}
	ins = ins[:min(k, len(items)-lead+1)]
	ins[0].items = slices.Clone(items[:lead])
	for j, it := range items[lead:] {
		target := 1 + j
		if target >= len(ins) {
			target = l.rng.IntN(len(ins))
		}
		ins[target].items = append(ins[target].items, it)
	}
	for _, in := range ins {
		deduction := slices.ContainsFunc(in.items, l.isDeduction)
		switch {
		case deduction && l.rng.IntN(12) == 0:
			in.seeds = make([]uint64, 2)
		case deduction || l.rng.IntN(10) == 0:
			in.seeds = make([]uint64, 1)
		}
	}
	m.inspections = ins
	return m
}

func (l *demoLoader) isDeduction(it service.InspectionItem) bool {
	r, _ := l.pol.Item(it.RuleCode)
	return r.Kind == policy.Deduction
}

// firstOf is the first ordinary shop of the road with the temper.
func (l *demoLoader) firstOf(r *demoRoad, t demoTemper) *demoShop {
	for _, s := range r.shops {
		if s.story == nil && s.temper == t {
			return s
		}
	}
	return nil
}

func (l *demoLoader) item(code string, points int) service.InspectionItem {
	notes := demoItemNotes[code]
	return service.InspectionItem{RuleCode: code, Points: &points, Note: notes[l.rng.IntN(len(notes))]}
}

// split turns points into catalogue items of the kind, each rule at most once,
// in a random order weighted by how often each is found.
func (l *demoLoader) split(points int, c policy.Cycle, kind policy.Kind) []service.InspectionItem {
	winter := c.Month == time.December || c.Month <= time.February
	type cand struct {
		it  policy.Item
		key float64
	}
	var cands []cand
	for _, it := range l.rules {
		if it.Kind != kind || it.Code == "BONUS-04" || it.Code == "HJWS-04" && !winter {
			continue
		}
		w := cmp.Or(demoRuleWeights[it.Code], 1)
		cands = append(cands, cand{it, -l.rng.ExpFloat64() / w}) // a weighted random order
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(b.key, a.key) })
	var out []service.InspectionItem
	for _, cd := range cands {
		if points <= 0 {
			break
		}
		it := cd.it
		if it.MinPoints > points {
			continue
		}
		p := min(it.MinPoints+l.rng.IntN(it.MaxPoints-it.MinPoints+1), points)
		out = append(out, l.item(it.Code, p))
		points -= p
	}
	// What is left (a shop that breaks nearly every rule) raises the
	// items found towards their maximum.
	for i := range out {
		it, _ := l.pol.Item(out[i].RuleCode)
		add := min(it.MaxPoints-*out[i].Points, points)
		*out[i].Points += add
		points -= add
	}
	return out
}

// scheduleInspection draws what a planned inspection's photos show and its
// note, and schedules it.
func (l *demoLoader) scheduleInspection(s *demoShop, c policy.Cycle, in *demoInspection) {
	in.shop = s
	for i := range in.seeds {
		in.seeds[i] = l.rng.Uint64()
	}
	in.note = demoInspectionNotes[l.rng.IntN(len(demoInspectionNotes))]
	if len(in.seeds) == 0 || !slices.ContainsFunc(in.items, l.isDeduction) {
		in.note = ""
	}
	l.events = append(l.events, demoEvent{at: l.at(c, in.frac), seq: len(l.events), what: "inspect " + s.name, ins: in, shop: s})
}

// inspect records a wave of inspections of different shops, consecutive in
// time, together, the way many officers' phones would send them: the
// evidence photos first, in order, one transaction per officer (so their ids
// are the same at every load), then the inspections at once, so that the
// service's group commit records them in a few transactions. The clock
// stands at the last one; each keeps its own inspected_at.
func (l *demoLoader) inspect(ctx context.Context, wave []demoEvent) error {
	l.clock.set(wave[len(wave)-1].at)
	type upload struct {
		officer service.Actor
		ins     []*demoInspection
		seeds   []uint64
		photos  []io.Reader
	}
	var uploads []*upload
	for _, ev := range wave {
		in := ev.ins
		if len(in.seeds) == 0 {
			continue
		}
		officer := in.shop.county.officers[in.officer]
		k := slices.IndexFunc(uploads, func(u *upload) bool { return u.officer.UserID == officer.UserID })
		if k < 0 {
			uploads, k = append(uploads, &upload{officer: officer}), len(uploads)
		}
		u := uploads[k]
		for _, seed := range in.seeds {
			u.ins = append(u.ins, in)
			u.seeds = append(u.seeds, seed)
		}
	}
	var wg sync.WaitGroup
	for _, u := range uploads { // drawing the photos is the slow part: in parallel
		u.photos = make([]io.Reader, len(u.seeds))
		for k, seed := range u.seeds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u.photos[k] = bytes.NewReader(demoPhoto(seed, false))
			}()
		}
	}
	wg.Wait()
	for _, u := range uploads {
		err := l.svc.WithUploads(ctx, u.officer, u.photos, func(ctx context.Context, ids []int64) error {
			for k, id := range ids {
				u.ins[k].photo = append(u.ins[k].photo, id)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("demo, evidence photos: %w", err)
		}
		l.res.Photos += len(u.photos)
	}
	errs := make([]error, len(wave))
	for k, ev := range wave {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := ev.ins
			key := fmt.Sprintf("demo-%d-%d", in.shop.id, ev.seq)
			at := ev.at
			r, _, err := l.svc.RecordInspection(ctx, in.shop.county.officers[in.officer], key, service.InspectionInput{
				MerchantID: in.shop.id, InspectedAt: &at, Items: in.items, Photos: in.photo, Note: in.note})
			in.id, errs[k] = r.ID, err
		}()
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			ev := wave[k]
			return fmt.Errorf("demo, %s at %s: %w", ev.what, ev.at.In(l.pol.Location()).Format("2006-01-02 15:04"), err)
		}
		l.res.Inspections++
		l.res.Entries += len(wave[k].ins.items)
	}
	return nil
}

// entryOf finds the first ledger entry of an inspection that matches, once
// the inspection ran.
func (l *demoLoader) entryOf(ctx context.Context, in *demoInspection, match func(models.LedgerEntry) bool) (models.LedgerEntry, error) {
	entries, err := l.db.LedgerOfInspections(ctx, []int64{in.id})
	if err != nil {
		return models.LedgerEntry{}, err
	}
	for _, e := range entries {
		if match(e) {
			return e, nil
		}
	}
	return models.LedgerEntry{}, fmt.Errorf("no such entry in inspection %d", in.id)
}

// Entries entryOf looks for.
func isDeductionEntry(e models.LedgerEntry) bool { return e.Kind == models.KindDeduction }
func isMinorEntry(e models.LedgerEntry) bool     { return e.Kind == models.KindDeduction && !e.Serious }
func isSeriousEntry(e models.LedgerEntry) bool   { return e.Kind == models.KindDeduction && e.Serious }
func isBonusEntry(e models.LedgerEntry) bool     { return e.Kind == models.KindBonus }

// later is a time after the inspection within its month: from a fraction
// into what is left of the month.
func (l *demoLoader) later(in *demoInspection, lo, hi float64) float64 {
	f := in.frac + (1-in.frac)*(lo+(hi-lo)*l.rng.Float64())
	return min(f, 0.985)
}

// planReversals has the county admin correct a few entries of the month at
// index i (not of shops with stories: their appeals speak for them).
func (l *demoLoader) planReversals(c *demoCounty, i int) {
	cyc := l.cycles[i]
	n := 2
	if i == len(l.cycles)-1 {
		n = 1
	}
	var cands []*demoInspection
	var owners []*demoShop
	for _, s := range c.shops {
		if s.story != nil || s.months[i] == nil {
			continue
		}
		for _, in := range s.months[i].inspections {
			if in.items[0].RuleCode != "ZXLH-05" {
				cands = append(cands, in)
				owners = append(owners, s)
			}
		}
	}
	// In 淄川区 two months ago one reversal takes back a bonus.
	bonusFirst := c.code == demoCounties[1].code && i == len(l.cycles)-3
	for k := 0; k < n && len(cands) > 0; k++ {
		j := l.rng.IntN(len(cands))
		kind, reason := models.KindDeduction, demoReversalReasons[l.rng.IntN(len(demoReversalReasons))]
		if k == 0 && bonusFirst {
			if b := slices.IndexFunc(cands, func(in *demoInspection) bool { return !slices.ContainsFunc(in.items, l.isDeduction) }); b >= 0 {
				j, kind, reason = b, models.KindBonus, demoBonusReversal
			}
		}
		in, s := cands[j], owners[j]
		cands, owners = slices.Delete(cands, j, j+1), slices.Delete(owners, j, j+1)
		if kind == models.KindDeduction && !slices.ContainsFunc(in.items, l.isDeduction) {
			k--
			continue
		}
		at := l.at(cyc, l.later(in, 0.1, 0.4))
		l.add(at, s, "reverse an entry of "+s.name, func(ctx context.Context) error {
			match := isMinorEntry
			if kind == models.KindBonus {
				match = isBonusEntry
			}
			e, err := l.entryOf(ctx, in, match)
			if err != nil {
				return err
			}
			_, _, err = l.svc.ReverseEntry(ctx, c.admin, s.id, e.ID, reason)
			l.res.Reversals++
			return err
		})
	}
}

// planNotices gives weaker shops rectification notices (限期整改) with the
// deductions of the month at index i, confirmed fixed at re-inspection: in
// time on most roads, late now and then on the weak ones. Everything of such
// a notice happens within its month, so none is overdue where a road must
// qualify.
func (l *demoLoader) planNotices(c *demoCounty, i int) {
	cyc := l.cycles[i]
	end := l.pol.CycleStart(cyc.Next())
	if end.After(l.now) {
		end = l.now
	}
	for _, s := range c.shops {
		m := s.months[i]
		if s.story != nil || m == nil || m.band < bandFair || len(m.inspections) == 0 || l.rng.IntN(100) >= 35 {
			continue
		}
		in := m.inspections[l.rng.IntN(len(m.inspections))]
		if len(in.seeds) == 0 || !slices.ContainsFunc(in.items, l.isDeduction) {
			continue
		}
		issued := l.at(cyc, in.frac).Add(10 * time.Minute)
		days := 1 + l.rng.IntN(2)
		weak := s.road.spec.role == roadLow || s.road.spec.role == roadPlain
		if weak && l.rng.IntN(10) < 3 {
			days = 4 + l.rng.IntN(3) // fixed late: overdue for a while
		}
		fixed := issued.Add(time.Duration(days)*24*time.Hour + time.Duration(l.rng.IntN(300))*time.Minute)
		if !fixed.Before(end.Add(-time.Hour)) {
			continue
		}
		l.planRectified(s, in, isDeductionEntry, issued, fixed, "复查已整改")
	}
}

// planRectified has the road's officer issue a rectification notice for
// the entry of an inspection that match finds, at issued with the
// inspection's photos, and confirm it fixed at re-inspection at fixed.
func (l *demoLoader) planRectified(s *demoShop, in *demoInspection, match func(models.LedgerEntry) bool, issued, fixed time.Time, note string) {
	var notice int64
	officer := s.county.officers[s.road.officer]
	l.add(issued, s, "notice to "+s.name, func(ctx context.Context) error {
		e, err := l.entryOf(ctx, in, match)
		if err != nil {
			return err
		}
		n, err := l.svc.IssueNotice(ctx, officer, s.id, service.NoticeInput{RuleCode: e.RuleCode,
			Note: "请于期限内整改：" + demoRuleName(l.pol, e.RuleCode), Photos: in.photo})
		notice = n.ID
		return err
	})
	l.add(fixed, s, "re-inspect "+s.name, func(ctx context.Context) error {
		_, err := l.svc.RectifyNotice(ctx, officer, notice, note)
		l.res.NoticesRectified++
		return err
	})
}

func demoRuleName(p *policy.Policy, code string) string {
	it, _ := p.Item(code)
	return it.Name
}

// planAppeal has a story shop appeal the first deduction of the month at
// index i, and the county office decide it (or not yet).
func (l *demoLoader) planAppeal(s *demoShop, i int, ap demoAppeal) {
	if i < 0 || s.months[i] == nil || len(s.months[i].inspections) == 0 {
		return
	}
	c := l.cycles[i]
	in := s.months[i].inspections[0]
	filed := l.at(c, l.later(in, 0.03, 0.08))
	var seed uint64
	if ap.photo {
		seed = l.rng.Uint64()
	}
	var id int64
	l.add(filed, s, "appeal of "+s.name, func(ctx context.Context) error {
		match := isMinorEntry
		if ap.serious {
			match = isSeriousEntry
		}
		e, err := l.entryOf(ctx, in, match)
		if err != nil {
			return err
		}
		var photos []int64
		if ap.photo {
			p, err := l.svc.UploadPhoto(ctx, s.account, bytes.NewReader(demoPhoto(seed, true)))
			if err != nil {
				return err
			}
			photos = append(photos, p.ID)
			l.res.Photos++
		}
		a, err := l.svc.FileAppeal(ctx, s.account, s.id, e.ID, ap.reason, photos...)
		id = a.ID
		if ap.outcome == models.AppealPending {
			l.res.Appeals[models.AppealPending]++
		}
		return err
	})
	if ap.outcome == models.AppealPending {
		return
	}
	decided := l.at(c, l.later(in, 0.12, 0.3))
	l.add(decided, s, "decide the appeal of "+s.name, func(ctx context.Context) error {
		_, err := l.svc.DecideAppeal(ctx, s.county.admin, id, ap.outcome == models.AppealAccepted, ap.note)
		l.res.Appeals[ap.outcome]++
		return err
	})
}

// planStoryNotice gives a story shop a notice dated from now: overdue (issued
// six days ago with three days to fix), reported fixed by the merchant with a
// photo (awaiting re-inspection), or open and not yet due.
func (l *demoLoader) planStoryNotice(s *demoShop, kind string) {
	rule := map[string]string{noticeOverdue: "ZXLH-02", noticeFixed: "SRZJ-03", noticeOpen: "SRZJ-04"}[kind]
	issued, days := l.daysAgo(6, s.story.n), 3
	switch kind {
	case noticeFixed:
		issued, days = l.daysAgo(3, s.story.n), 7
	case noticeOpen:
		issued, days = l.daysAgo(1, s.story.n), 7
	}
	officer := s.county.officers[s.road.officer]
	seed, fixSeed := l.rng.Uint64(), l.rng.Uint64()
	var id int64
	l.add(issued, s, "notice to "+s.name, func(ctx context.Context) error {
		p, err := l.svc.UploadPhoto(ctx, officer, bytes.NewReader(demoPhoto(seed, false)))
		if err != nil {
			return err
		}
		l.res.Photos++
		n, err := l.svc.IssueNotice(ctx, officer, s.id, service.NoticeInput{RuleCode: rule, DueDays: &days,
			Note: "请于期限内整改：" + demoRuleName(l.pol, rule), Photos: []int64{p.ID}})
		id = n.ID
		if kind == noticeOpen {
			l.res.NoticesOpen++
		}
		return err
	})
	if kind != noticeFixed {
		return
	}
	l.add(l.daysAgo(1, 30+s.story.n), s, "fix report of "+s.name, func(ctx context.Context) error {
		p, err := l.svc.UploadPhoto(ctx, s.account, bytes.NewReader(demoPhoto(fixSeed, true)))
		if err != nil {
			return err
		}
		l.res.Photos++
		_, err = l.svc.ReportNoticeFixed(ctx, s.account, id, "已全部整改，请复查", []int64{p.ID})
		l.res.NoticesReported++
		return err
	})
}

// planOpenNotices leaves a few notices open, due in a week, on shops
// inspected this month: issued at their inspection, or two days ago if that
// was earlier, so that none is overdue however far into the month now is.
func (l *demoLoader) planOpenNotices(c *demoCounty) {
	i := len(l.cycles) - 1
	var cands []*demoShop
	for _, s := range c.shops {
		if s.story == nil && s.months[i] != nil && len(s.months[i].inspections) > 0 && len(s.months[i].inspections[0].seeds) > 0 &&
			slices.ContainsFunc(s.months[i].inspections[0].items, l.isDeduction) {
			cands = append(cands, s)
		}
	}
	for k := 0; k < 3 && len(cands) > 0; k++ {
		j := l.rng.IntN(len(cands))
		s := cands[j]
		cands = slices.Delete(cands, j, j+1)
		in := s.months[i].inspections[0]
		inspected := l.at(l.cycles[i], in.frac)
		at := inspected.Add(15 * time.Minute)
		if recent := l.now.Add(-48 * time.Hour); at.Before(recent) {
			at = recent
		}
		if limit := l.now.Add(-time.Minute); at.After(limit) {
			at = inspected.Add(l.now.Sub(inspected) / 2) // the month began moments ago
		}
		days := 7
		officer := s.county.officers[s.road.officer]
		l.add(at, s, "notice to "+s.name, func(ctx context.Context) error {
			e, err := l.entryOf(ctx, in, isDeductionEntry)
			if err != nil {
				return err
			}
			_, err = l.svc.IssueNotice(ctx, officer, s.id, service.NoticeInput{RuleCode: e.RuleCode, DueDays: &days,
				Note: "请于期限内整改：" + demoRuleName(l.pol, e.RuleCode), Photos: in.photo})
			l.res.NoticesOpen++
			return err
		})
	}
}

// planRepair has a story shop's serious item rectified at once (a notice
// confirmed at re-inspection the next day) and, in the month after, once the
// minimum period has passed, the merchant apply for credit repair (信用修复)
// with a photo and the signed commitment, and the county office grant it.
func (l *demoLoader) planRepair(s *demoShop) {
	i := len(l.cycles) - 1 + s.story.serious[0]
	if i < 0 || i+1 >= len(l.cycles) || s.months[i] == nil || len(s.months[i].inspections) == 0 {
		return
	}
	c := l.cycles[i]
	in := s.months[i].inspections[0] // the serious item leads the month's first inspection
	issued := l.at(c, in.frac).Add(10 * time.Minute)
	applied, granted := l.at(c.Next(), 0.3), l.at(c.Next(), 0.45)
	if opens := l.pol.RepairOpens(c); applied.Before(opens) {
		applied, granted = opens.Add(2*time.Hour), opens.Add(26*time.Hour)
	}
	seed := l.rng.Uint64()
	var app int64
	l.planRectified(s, in, isSeriousEntry, issued, issued.Add(26*time.Hour), "复查已整改，店外桌椅已全部收回")
	l.add(applied, s, "repair application of "+s.name, func(ctx context.Context) error {
		p, err := l.svc.UploadPhoto(ctx, s.account, bytes.NewReader(demoPhoto(seed, true)))
		if err != nil {
			return err
		}
		l.res.Photos++
		a, err := l.svc.ApplyRepair(ctx, s.account, s.id, service.RepairInput{
			Reason: "已按要求整改，店外桌椅全部收回店内，此后巡查均未再发现占道经营，申请提前解除星级限制",
			Photos: []int64{p.ID}, Pledge: true, PledgeName: s.owner})
		app = a.ID
		return err
	})
	l.add(granted, s, "grant the repair of "+s.name, func(ctx context.Context) error {
		_, err := l.svc.DecideRepair(ctx, s.county.admin, app, true, "经复查整改到位，承诺书已签署，同意信用修复，解除星级上限")
		l.res.Repairs++
		return err
	})
}

// planCertificate has a story shop's merchant print a credit certificate
// (信用证明) of its star this month, as a bank or landlord would ask.
func (l *demoLoader) planCertificate(s *demoShop) {
	cur := l.cycles[len(l.cycles)-1]
	l.add(l.at(cur, 0.5), s, "certificate of "+s.name, func(ctx context.Context) error {
		v, err := l.svc.IssueCertificate(ctx, s.account, s.id)
		l.res.Certificates++
		l.res.CertificateURL = v.URL
		return err
	})
}

// demoSpotCheckVisits are when (fractions of the current month) the
// county's auditor visits the first shops of the month's random audit.
var demoSpotCheckVisits = []float64{0.4, 0.55, 0.7}

// planSpotCheck has the county admin draw a random audit (抽查) of two shops
// a road early in the current month, for the county's auditor, who visits
// the first shops of the sample as the month goes on (the rest stay on its
// worklist) and records what it finds: the deductions the officers' plan
// has for the shop this month (two at most), one of them a point lower at
// the second visit; at the third, a shop the officers found nothing at has
// litter in front.
func (l *demoLoader) planSpotCheck(c *demoCounty) {
	cur := len(l.cycles) - 1
	seed := 1 + l.rng.Int64N(999_999_999_999)
	var audit int64
	l.add(l.at(l.cycles[cur], 0.2), nil, "spot check of "+c.name, func(ctx context.Context) error {
		sc, err := l.svc.DrawSpotCheck(ctx, c.admin, service.SpotCheckInput{CountyID: c.id, Size: 2, Seed: &seed,
			AuditorID: c.auditor.UserID, Note: "每条道路随机抽取 2 家，由抽查员独立检查"})
		audit = sc.ID
		l.res.SpotChecks++
		return err
	})
	for k, frac := range demoSpotCheckVisits {
		l.add(l.at(l.cycles[cur], frac), nil, "spot-check visit in "+c.name, func(ctx context.Context) error {
			sc, err := l.svc.SpotCheck(ctx, c.admin, audit)
			if err != nil {
				return err
			}
			var sample []int64
			for _, r := range sc.Roads {
				for _, sh := range r.Shops {
					sample = append(sample, sh.MerchantID)
				}
			}
			if k >= len(sample) {
				return nil
			}
			var items []service.InspectionItem
			if i := slices.IndexFunc(c.shops, func(s *demoShop) bool { return s.id == sample[k] }); i >= 0 && c.shops[i].months[cur] != nil {
				for _, in := range c.shops[i].months[cur].inspections {
					for _, it := range in.items {
						if r, _ := l.pol.Item(it.RuleCode); r.Kind == policy.Deduction && !r.Serious && len(items) < 2 {
							items = append(items, service.InspectionItem{RuleCode: it.RuleCode, Points: it.Points, Note: demoItemNotes[it.RuleCode][0]})
						}
					}
				}
			}
			if k == 1 && len(items) > 0 {
				if r, _ := l.pol.Item(items[0].RuleCode); *items[0].Points > r.MinPoints {
					lower := *items[0].Points - 1
					items[0].Points = &lower
				}
			}
			if k == 2 && len(items) == 0 {
				items = append(items, service.InspectionItem{RuleCode: "HJWS-01", Note: demoItemNotes["HJWS-01"][0]})
			}
			note := "现场检查未发现问题"
			if len(items) > 0 {
				note = "现场检查发现的问题已拍照留存"
			}
			_, err = l.svc.RecordSpotCheck(ctx, c.auditor, audit, sample[k], service.SpotCheckVisit{Items: items, Note: note})
			l.res.Visits++
			return err
		})
	}
}

// planDemonstration moves the county's roads through the demonstration
// statuses over the months, ending in each road's status.
func (l *demoLoader) planDemonstration(c *demoCounty) {
	n := len(l.cycles)
	type move struct {
		offset int
		frac   float64
		status string
		note   string
	}
	paths := map[string][]move{
		service.DemoAccepted: {{-3, 0.1, service.DemoCandidate, "列入示范路创建名单"}, {-3, 0.6, service.DemoBuilding, "完成门前五包责任书签订，开始创建"},
			{-2, 0.7, service.DemoAccepted, "区级验收通过"}},
		service.DemoBuilding:  {{-2, 0.2, service.DemoCandidate, "列入示范路创建名单"}, {-1, 0.3, service.DemoBuilding, "完成门前五包责任书签订，开始创建"}},
		service.DemoCandidate: {{-1, 0.8, service.DemoCandidate, "列入示范路创建名单"}},
		service.DemoRevoked: {{-3, 0.1, service.DemoCandidate, "列入示范路创建名单"}, {-2, 0.3, service.DemoBuilding, "开始创建"},
			{-1, 0.85, service.DemoRevoked, "连续两月平均分低于90分且存在超期未整改问题，撤销示范路创建资格"}},
	}
	for ri, r := range c.roads {
		for _, mv := range paths[r.spec.demo] {
			at := l.at(l.cycles[n-1+mv.offset], mv.frac+0.01*float64(ri))
			l.add(at, nil, "designate "+r.spec.name, func(ctx context.Context) error {
				_, err := l.svc.SetDemonstration(ctx, c.admin, r.id, mv.status, mv.note)
				return err
			})
		}
	}
}

// summarize counts what the console will show now.
func (l *demoLoader) summarize(ctx context.Context, counties []*demoCounty) error {
	for _, c := range counties {
		var ids []int64
		for _, s := range c.shops {
			ids = append(ids, s.id)
		}
		ms, err := l.db.MerchantsByIDs(ctx, ids)
		if err != nil {
			return err
		}
		active := ms[:0]
		for _, m := range ms {
			if m.Status == "active" {
				active = append(active, m)
			}
		}
		scores, err := l.svc.CurrentScores(ctx, active)
		if err != nil {
			return err
		}
		for _, m := range active {
			r := scores[m.ID]
			if r.UnderWatch {
				l.res.UnderWatch++
			}
			if r.Capped {
				l.res.Capped++
			}
		}
		d, err := l.svc.Demonstration(ctx, l.city, c.id)
		if err != nil {
			return err
		}
		for _, road := range c.roads { // in the order of the county's list
			k := slices.IndexFunc(d.Roads, func(v service.RoadResultView) bool { return v.RoadID == road.id })
			if k < 0 {
				continue // not designated
			}
			switch r := d.Roads[k]; {
			case r.Qualified:
				l.res.Qualified = append(l.res.Qualified, c.name+" "+r.Name)
			case r.DemoStatus != service.DemoRevoked:
				l.res.Failing = append(l.res.Failing, fmt.Sprintf("%s %s (%s: %s)", c.name, r.Name, r.DemoStatus, strings.Join(r.Failing, ", ")))
			}
		}
		_, overdue, err := l.svc.NoticeList(ctx, c.admin, service.NoticeFilter{Status: service.NoticesOverdue, Paging: service.Paging{Limit: 1}})
		if err != nil {
			return err
		}
		l.res.NoticesOverdue += int(overdue)
	}
	return nil
}

// print writes the summary and the logins.
func (r demoResult) print(w io.Writer, took time.Duration) {
	fmt.Fprintf(w, "Loaded demo data in %s: %d counties, %d roads, %d shops; cycles %s (closed: %s).\n",
		took.Round(100*time.Millisecond), r.Counties, r.Roads, r.Merchants, strings.Join(r.Cycles, ", "), strings.Join(r.Closed, ", "))
	fmt.Fprintf(w, "%d inspections (%d entries, %d photos), %d reversals, appeals %d pending / %d accepted / %d rejected,\n",
		r.Inspections, r.Entries, r.Photos, r.Reversals, r.Appeals[models.AppealPending], r.Appeals[models.AppealAccepted], r.Appeals[models.AppealRejected])
	fmt.Fprintf(w, "notices %d overdue / %d reported fixed / %d open / %d rectified; now %d shops under 重点监管, %d capped by a serious item.\n",
		r.NoticesOverdue, r.NoticesReported, r.NoticesOpen, r.NoticesRectified, r.UnderWatch, r.Capped)
	fmt.Fprintf(w, "Demonstration roads qualified now: %s.\n", strings.Join(r.Qualified, ", "))
	fmt.Fprintf(w, "Designated but not qualified: %s.\n", strings.Join(r.Failing, "; "))
	fmt.Fprintf(w, "Fair to merchants: credit repairs granted %d, random audits %d (%d shops visited), credit certificates %d",
		r.Repairs, r.SpotChecks, r.Visits, r.Certificates)
	if r.CertificateURL != "" {
		fmt.Fprintf(w, " (verify one at %s)", r.CertificateURL)
	}
	fmt.Fprintln(w, ".")
	fmt.Fprintf(w, "\nLogins (all share the password %s):\n", r.Password)
	for _, lg := range r.Logins {
		line := fmt.Sprintf("  %-16s %s", lg.Username, lg.Role)
		for _, more := range []string{lg.County, lg.Note} {
			if more != "" {
				line += " · " + more
			}
		}
		fmt.Fprintln(w, line)
	}
	a, b := demoCounties[0].code, demoCounties[1].code
	fmt.Fprintf(w, "Worth opening: shop%[1]s1 (重点监管, capped, overdue notice), shop%[1]s2 (serious item, appeal pending), shop%[2]s2\n"+
		"(capped though scoring high), shop%[1]s9 (credit repair granted), shop%[1]s3 (credit certificate), officer%[1]s2\n"+
		"(shops to inspect, notices due), auditor%[1]s (random audit), admin%[1]s (dashboard, queues, demonstration roads).\n", a, b)
}

// demoUSCC builds a valid 统一社会信用代码 for a shop of the county.
func demoUSCC(county string, n int) string {
	first := fmt.Sprintf("92%s%s%04d", county, "MA3", n) // 92: 个体工商户
	first = (first + "00000000000000000")[:17]
	return first + string(service.USCCCheckChar(first))
}

// demoPhoto draws a small street-front photo from seed: sky, a shop front
// with its sign and door, the pavement, and litter unless clean. Officers'
// evidence is JPEG, merchants' photos of a clean front PNG; every seed gives
// a different image.
func demoPhoto(seed uint64, clean bool) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	const w, h = 128, 96
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill := func(x0, y0, x1, y1 int, c color.RGBA) {
		draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Src)
	}
	shade := func(base uint8, spread int) uint8 {
		return uint8(min(max(int(base)+rng.IntN(2*spread+1)-spread, 0), 255))
	}
	sky := color.RGBA{shade(150, 30), shade(190, 25), shade(225, 20), 255}
	fill(0, 0, w, 29, sky)
	wall := color.RGBA{shade(200, 40), shade(185, 40), shade(160, 40), 255}
	fill(0, 29, w, 67, wall)
	sign := color.RGBA{shade(180, 70), shade(40, 40), shade(40, 40), 255}
	fill(8+rng.IntN(8), 32, w-8-rng.IntN(8), 40, sign)
	door := 16 + rng.IntN(56)
	fill(door, 45, door+18, 67, color.RGBA{shade(90, 30), shade(70, 20), shade(50, 20), 255})
	fill(door+24, 46, door+48, 62, color.RGBA{shade(120, 20), shade(160, 30), shade(190, 30), 255}) // window
	pave := shade(150, 20)
	fill(0, 67, w, h, color.RGBA{pave, pave, pave, 255})
	for y := 72; y < h; y += 6 {
		fill(0, y, w, y+1, color.RGBA{pave - 25, pave - 25, pave - 25, 255})
	}
	if !clean {
		for k := 8 + rng.IntN(16); k > 0; k-- {
			x, y, s := rng.IntN(w-6), 62+rng.IntN(h-67), 2+rng.IntN(5)
			fill(x, y, x+s, y+s/2+1, color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255})
		}
		if rng.IntN(2) == 0 { // a pile of boxes
			x := rng.IntN(w - 32)
			fill(x, 56, x+24, 74, color.RGBA{shade(170, 20), shade(130, 20), shade(80, 20), 255})
		}
	}
	var buf bytes.Buffer
	if clean {
		png.Encode(&buf, img)
	} else {
		jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70})
	}
	return buf.Bytes()
}
