package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"

	"github.com/menqian/menqian/service"
)

// demoCounties are two real districts of Zibo with real road names.
var demoCounties = []struct {
	code, name string
	roads      [][2]string // name, town
}{
	{"370303", "张店区", [][2]string{{"柳泉路", "车站街道"}, {"人民西路", "公园街道"}, {"共青团路", "和平街道"},
		{"华光路", "科苑街道"}, {"金晶大道", "马尚街道"}, {"新村西路", "体育场街道"}, {"中心路", "公园街道"}}},
	{"370302", "淄川区", [][2]string{{"松龄路", "般阳路街道"}, {"般阳路", "般阳路街道"}, {"淄川路", "松龄路街道"},
		{"洪山路", "洪山镇"}, {"张博路", "将军路街道"}}},
}

var (
	demoShops = []string{"老王烧烤", "鑫源便利店", "博山菜馆", "周村烧饼", "华联超市", "小李理发", "惠民药房", "齐鲁五金",
		"丽人服饰", "阳光水果", "福满楼饭店", "家家乐面馆", "聚鲜海鲜", "兴隆茶叶", "金诚眼镜", "童趣玩具", "明远书店",
		"安心母婴", "康乐体育", "老街豆腐坊"}
	demoCategories = []string{"餐饮", "零售", "餐饮", "食品", "零售", "生活服务", "医药", "五金建材", "服装", "果蔬", "餐饮",
		"餐饮", "水产", "茶叶", "眼镜", "玩具", "文化", "母婴", "体育用品", "食品"}
	demoSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱"}
)

func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "Load Zibo sample data (张店区 and 淄川区, 12 roads, 300 shops with valid USCCs, officers,\nmerchant accounts and a few inspections) into an empty database and print the logins.", stdout)
	perCounty := fs.Int("merchants", 150, "merchants per county")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := openApp(ctx, getenv, stderr, true)
	if err != nil {
		return err
	}
	defer a.Close()
	adminPW, _, err := a.svc.Bootstrap(ctx, a.cfg.AdminPassword)
	if err != nil {
		return err
	}
	city := service.Actor{Role: service.RoleCityAdmin}
	if cs, err := a.svc.Counties(ctx, city); err != nil {
		return err
	} else if len(cs) > 0 {
		return errors.New("demo: the database already has counties; demo loads only into an empty database")
	}
	pw, err := service.RandomPassword()
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	var logins [][2]string
	for ci, dc := range demoCounties {
		code, name := dc.code, dc.name
		county, err := a.svc.CreateCounty(ctx, city, service.CountyInput{Code: &code, Name: &name})
		if err != nil {
			return fmt.Errorf("demo county %s: %w", dc.name, err)
		}
		cid := county.ID
		mkUser := func(username, role string, merchantID *int64, display string) (int64, error) {
			in := service.UserInput{Username: username, Password: pw, Role: role, MerchantID: merchantID, DisplayName: display}
			if merchantID == nil {
				in.CountyID = &cid
			}
			u, err := a.svc.CreateUser(ctx, city, in)
			logins = append(logins, [2]string{username, role + " · " + dc.name})
			return u.ID, err
		}
		if _, err := mkUser("admin"+code, service.RoleCountyAdmin, nil, dc.name+"城管局"); err != nil {
			return err
		}
		var officers []int64
		for i := 1; i <= 2; i++ {
			id, err := mkUser(fmt.Sprintf("officer%s%d", code, i), service.RoleOfficer, nil, demoSurnames[i+ci*3]+"巡查员")
			if err != nil {
				return err
			}
			officers = append(officers, id)
		}
		var roads []int64
		for i, r := range dc.roads {
			rn, town, length := r[0], r[1], 600+rng.IntN(1800)
			offs := []int64{officers[i%len(officers)]}
			road, err := a.svc.CreateRoad(ctx, city, service.RoadInput{CountyID: &cid, Name: &rn, Town: &town, LengthM: &length, OfficerIDs: &offs})
			if err != nil {
				return fmt.Errorf("demo road %s: %w", rn, err)
			}
			roads = append(roads, road.ID)
		}
		for i := 0; i < *perCounty; i++ {
			k := rng.IntN(len(demoShops))
			road := roads[i%len(roads)]
			shop := fmt.Sprintf("%s（%s%d号）", demoShops[k], dc.roads[i%len(roads)][0], 1+i/len(roads)*2)
			cat, owner := demoCategories[k], demoSurnames[rng.IntN(len(demoSurnames))]+"先生"
			uscc := demoUSCC(code, ci*1000+i)
			phone := fmt.Sprintf("138%08d", rng.IntN(100_000_000))
			addr := dc.name + dc.roads[i%len(roads)][0] + fmt.Sprintf("%d号", 1+i/len(roads)*2)
			m, err := a.svc.CreateMerchant(ctx, city, service.MerchantInput{RoadID: &road, Name: &shop, USCC: &uscc, Category: &cat,
				OwnerName: &owner, Phone: &phone, Address: &addr})
			if err != nil {
				return fmt.Errorf("demo merchant %s: %w", shop, err)
			}
			if i < 5 {
				if _, err := mkUser(fmt.Sprintf("shop%s%d", code, i+1), service.RoleMerchant, &m.ID, ""); err != nil {
					return err
				}
			}
			if rng.IntN(3) == 0 {
				if err := demoInspection(ctx, a.svc, service.Actor{UserID: officers[0], Role: service.RoleOfficer, CountyID: cid}, m.ID, rng); err != nil {
					return err
				}
			}
		}
	}
	fmt.Fprintf(stdout, "Loaded demo data: %d counties, %d merchants.\n\nLogins (all share the password %s):\n", len(demoCounties), len(demoCounties)**perCounty, pw)
	for _, l := range logins {
		fmt.Fprintf(stdout, "  %-18s %s\n", l[0], l[1])
	}
	switch {
	case adminPW != "":
		fmt.Fprintf(stdout, "  %-18s city_admin, password %s (shown once)\n", "admin", adminPW)
	default:
		fmt.Fprintf(stdout, "  %-18s city_admin (MENQIAN_ADMIN_PASSWORD, or the password printed at first start)\n", "admin")
	}
	return nil
}

// demoUSCC builds a valid 统一社会信用代码 for a shop of the county.
func demoUSCC(county string, n int) string {
	first := fmt.Sprintf("92%s%s%04d", county, "MA3", n) // 92: 个体工商户
	first = (first + "00000000000000000")[:17]
	return first + string(service.USCCCheckChar(first))
}

// demoInspection records one realistic inspection: a bonus, or a deduction with a photo.
func demoInspection(ctx context.Context, svc *service.Service, officer service.Actor, merchantID int64, rng *rand.Rand) error {
	in := service.InspectionInput{MerchantID: merchantID}
	if rng.IntN(2) == 0 {
		in.Items = []service.InspectionItem{{RuleCode: "BONUS-01"}}
	} else {
		rules := []string{"HJWS-01", "SRZJ-02", "ZXLH-02", "ZXLH-01", "LHMG-02"}
		in.Items = []service.InspectionItem{{RuleCode: rules[rng.IntN(len(rules))], Note: "现场已责令整改"}}
		img := image.NewRGBA(image.Rect(0, 0, 32, 24))
		img.Set(rng.IntN(32), rng.IntN(24), color.RGBA{uint8(rng.IntN(256)), 80, 80, 255})
		var buf bytes.Buffer
		png.Encode(&buf, img)
		p, err := svc.UploadPhoto(ctx, officer, &buf)
		if err != nil {
			return err
		}
		in.Photos = []int64{p.ID}
	}
	_, _, err := svc.RecordInspection(ctx, officer, fmt.Sprintf("demo-%d", merchantID), in)
	return err
}
