package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/menqian/menqian/models"
	"github.com/menqian/menqian/service"
)

// The county office's accounts (账号): its officers and its shops' accounts.

// accountsPage is the number of accounts on a page.
const accountsPage = 50

// roleNames are the roles in words.
var roleNames = map[string]string{service.RoleCityAdmin: "市级管理员", service.RoleCountyAdmin: "区县管理员",
	service.RoleOfficer: "巡查员", service.RoleMerchant: "商户", service.RoleAuditor: "抽查员"}

// accountFilters are the list's tabs.
var accountFilters = []struct{ Key, Label string }{{"", "全部"}, {service.RoleOfficer, "巡查员"}, {service.RoleMerchant, "商户"},
	{service.RoleAuditor, "抽查员"}}

// accountLine is an account with its role in words and its shop.
type accountLine struct {
	models.User
	RoleName string
	Shop     *models.Merchant
	Managed  bool // the county admin may disable it and reset its password
}

// accountForm is the create form as sent.
type accountForm struct {
	Role, Username, DisplayName, Shop string
}

// accounts lists the county's accounts with the form to add one.
func (p *Pages) accounts(w http.ResponseWriter, r *http.Request) {
	f := accountForm{Role: service.RoleOfficer}
	if id := queryID(r.URL.Query(), "merchant"); id > 0 {
		// From a shop's page: an account for that shop.
		if m, err := p.svc.Merchant(r.Context(), actorOf(r), id); err == nil {
			f = accountForm{Role: service.RoleMerchant, Shop: m.Code}
		}
	}
	p.showAccounts(w, r, http.StatusOK, f, nil, false)
}

// showAccounts renders the list and the create form; problem is the create
// form's (or, with ofList, the problem of an action on the list).
func (p *Pages) showAccounts(w http.ResponseWriter, r *http.Request, status int, f accountForm, problem error, ofList bool) {
	ctx, a, q := r.Context(), actorOf(r), r.URL.Query()
	role := q.Get("role")
	if role != service.RoleOfficer && role != service.RoleMerchant && role != service.RoleAuditor {
		role = ""
	}
	page := pageOf(q)
	us, total, err := p.svc.Users(ctx, a, service.UserQuery{CountyID: a.CountyID, Role: role,
		Paging: service.Paging{Limit: accountsPage, Offset: (page - 1) * accountsPage}})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	lines := make([]accountLine, len(us))
	for i, u := range us {
		lines[i] = accountLine{User: u, RoleName: roleNames[u.Role],
			Managed: u.ID != a.UserID && (u.Role == service.RoleOfficer || u.Role == service.RoleMerchant || u.Role == service.RoleAuditor)}
		if u.MerchantID != nil {
			m, err := p.svc.Merchant(ctx, a, *u.MerchantID)
			if err != nil {
				p.fail(w, r, err)
				return
			}
			lines[i].Shop = &m
		}
	}
	v := view{"Console": true, "Tab": "accounts", "Accounts": lines, "Total": total, "Role": role, "Filters": accountFilters,
		"Form": f, "Pager": newPager(r, page, accountsPage, int(total))}
	if problem != nil && ofList {
		v["ListProblem"] = problemOf(problem)
	} else if problem != nil {
		v["Problem"] = problemOf(problem)
	}
	if c := q.Get("changed"); c != "" {
		v["Changed"] = c
	}
	p.render(w, r, status, "console_accounts.html", v)
}

// shopOf finds the shop a merchant account is for: by its code, or by a name
// that matches one shop of the county.
func (p *Pages) shopOf(r *http.Request, text string) (int64, error) {
	if text == "" {
		return 0, service.Invalid(map[string]string{"merchant_id": "请填写商户编码或商户名称"})
	}
	ms, n, err := p.svc.Merchants(r.Context(), actorOf(r), service.MerchantFilter{CountyID: actorOf(r).CountyID, Query: text,
		Paging: service.Paging{Limit: service.MaxPage}})
	if err != nil {
		return 0, err
	}
	var named []models.Merchant
	for _, m := range ms {
		if m.Code == text {
			return m.ID, nil
		}
		if m.Name == text {
			named = append(named, m)
		}
	}
	switch {
	case len(named) == 1:
		return named[0].ID, nil
	case n == 1:
		return ms[0].ID, nil
	case n == 0:
		return 0, service.Invalid(map[string]string{"merchant_id": "本区县没有这家商户"})
	}
	return 0, service.Invalid(map[string]string{"merchant_id": fmt.Sprintf("有 %d 家商户与之相符，请填写商户编码（一户一码）", n)})
}

// createAccount adds an officer or a shop's account with a generated
// password, shown once on the answer.
func (p *Pages) createAccount(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	f := accountForm{Role: formValue(r, "role"), Username: strings.TrimSpace(formValue(r, "username")),
		DisplayName: strings.TrimSpace(formValue(r, "display_name")), Shop: strings.TrimSpace(formValue(r, "shop"))}
	in := service.UserInput{Username: f.Username, Role: f.Role, DisplayName: f.DisplayName}
	switch f.Role {
	case service.RoleOfficer, service.RoleAuditor:
		in.CountyID = &a.CountyID
	case service.RoleMerchant:
		id, err := p.shopOf(r, f.Shop)
		if err != nil {
			p.refuseAccount(w, r, f, err, false)
			return
		}
		in.MerchantID = &id
	default:
		p.refuseAccount(w, r, f, service.Invalid(map[string]string{"role": "请选择巡查员、抽查员或商户"}), false)
		return
	}
	pw, err := service.RandomPassword()
	if err != nil {
		p.fail(w, r, err)
		return
	}
	in.Password = pw
	u, err := p.svc.CreateUser(ctx, a, in)
	if service.ErrorCode(err) == service.CodeDuplicate {
		err = &service.Error{Code: service.CodeDuplicate, Message: "用户名已存在", Fields: map[string]string{"username": "已被使用，请换一个"}}
	}
	if err != nil {
		p.refuseAccount(w, r, f, err, false)
		return
	}
	p.showPassword(w, r, u, pw, true)
}

// refuseAccount shows the list again with the form as sent and its problems
// (ofList: the problem of an action on the list); a refusal of the account
// itself (not found, forbidden) and a failure are the error page's.
func (p *Pages) refuseAccount(w http.ResponseWriter, r *http.Request, f accountForm, err error, ofList bool) {
	var e *service.Error
	if !errors.As(err, &e) || e.Code == service.CodeNotFound || e.Code == service.CodeForbidden || e.Code == service.CodeInternal {
		p.fail(w, r, err)
		return
	}
	p.showAccounts(w, r, service.HTTPStatus(e.Code), f, err, ofList)
}

// showPassword is the one page that ever shows a password: a new account's
// or a reset one's. It is not stored anywhere but as its hash, never logged,
// and the page is not cached (personal pages are no-store).
func (p *Pages) showPassword(w http.ResponseWriter, r *http.Request, u models.User, pw string, created bool) {
	v := view{"Console": true, "Tab": "accounts", "User": u, "RoleName": roleNames[u.Role], "Password": pw, "Created": created}
	if u.MerchantID != nil {
		if m, err := p.svc.Merchant(r.Context(), actorOf(r), *u.MerchantID); err == nil {
			v["Shop"] = m
		}
	}
	p.render(w, r, http.StatusOK, "console_account_password.html", v)
}

// setAccountStatus disables or re-enables an account: a disabled account's
// sessions end at their next request.
func (p *Pages) setAccountStatus(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	var disabled bool
	switch formValue(r, "disabled") {
	case "1", "true":
		disabled = true
	case "0", "false":
	default:
		p.refuseAccount(w, r, accountForm{Role: service.RoleOfficer}, service.Invalid(map[string]string{"disabled": "请选择停用或启用"}), true)
		return
	}
	if _, err := p.svc.UpdateUser(ctx, a, id, service.UserChange{Disabled: &disabled}); err != nil {
		p.refuseAccount(w, r, accountForm{Role: service.RoleOfficer}, err, true)
		return
	}
	http.Redirect(w, r, "/console/accounts?changed="+strconv.FormatInt(id, 10)+"#user-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}

// resetPassword gives an account a new random password, shown once; the
// account's sessions begun with the old one end.
func (p *Pages) resetPassword(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pw, err := service.RandomPassword()
	if err != nil {
		p.fail(w, r, err)
		return
	}
	u, err := p.svc.UpdateUser(ctx, a, id, service.UserChange{Password: &pw})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.showPassword(w, r, u, pw, false)
}
