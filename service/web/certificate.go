package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"

	"github.com/menqian/menqian/service"
)

// certificateQRSize is the printed QR code: 4 cm on A4 at 300 dpi is about
// 470 px; the largest whole-module size within it is used.
const certificateQRSize = 480

// merchantCertificates lists the merchant's credit certificates (信用证明)
// and offers a new one.
func (p *Pages) merchantCertificates(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	f, err := p.svc.MerchantFileOf(ctx, a, a.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	cs, err := p.svc.Certificates(ctx, a, a.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "merchant_certificates.html", view{"Tab": "home", "F": f, "Certificates": cs,
		"Closed": f.Status != "active"})
}

// issueCertificate issues a certificate as of now and opens its print page.
func (p *Pages) issueCertificate(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	c, err := p.svc.IssueCertificate(r.Context(), a, a.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/merchant/certificates/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
}

// certificatePage is a certificate fit to print on A4, with its QR code.
func (p *Pages) certificatePage(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	c, err := p.certificateOf(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	f, err := p.svc.MerchantFileOf(ctx, a, c.MerchantID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	png, err := p.svc.CertificatePNG(c, certificateQRSize)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "certificate_print.html", view{"C": c, "F": f,
		"QR": template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
}

// verifyCertificate is the public page a certificate's QR code opens: 真实有效
// with what it said and the shop's star now (200); a token not issued here or
// an altered certificate (404), or a revoked one (410), refused in words.
func (p *Pages) verifyCertificate(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "Cookie")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-cache")
	}
	v, err := p.svc.VerifyCertificate(r.Context(), r.PathValue("token"))
	if err != nil {
		e, ok := err.(*service.Error)
		if !ok || (e.Code != service.CodeNotFound && e.Code != service.CodeRevoked) {
			p.fail(w, r, err)
			return
		}
		p.render(w, r, service.HTTPStatus(e.Code), "certificate_verify.html", view{"Refused": e.Message,
			"Revoked": e.Code == service.CodeRevoked})
		return
	}
	p.render(w, r, http.StatusOK, "certificate_verify.html", view{"V": v})
}

// certificateOf is the certificate of the path's id, as the caller may see it.
func (p *Pages) certificateOf(r *http.Request) (service.CertificateView, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return service.CertificateView{}, err
	}
	return p.svc.Certificate(r.Context(), actorOf(r), id)
}

// revokeCertificate revokes a certificate from the console's shop page,
// after a confirmation step with the reason.
func (p *Pages) revokeCertificate(w http.ResponseWriter, r *http.Request) {
	c, err := p.certificateOf(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	shop := "/console/shops/" + strconv.FormatInt(c.MerchantID, 10)
	note := formValue(r, "note")
	if formValue(r, "confirm") != "1" || note == "" {
		step := confirmStep{Tab: "shops", Title: "撤销信用证明：" + c.MerchantName + "（" + c.Serial + "）",
			Lines: []string{"撤销后，扫描这份证明的二维码将显示“已被撤销，不再有效”。撤销不能恢复，商户可以重新开具。",
				"撤销理由记入操作记录，不向公众显示。"},
			Action: "/console/certificates/" + strconv.FormatInt(c.ID, 10) + "/revoke", Reason: "撤销理由",
			Button: "确认撤销", Danger: true, Back: shop + "#certificates"}
		status := http.StatusOK
		if formValue(r, "confirm") == "1" {
			step.Error, status = "请填写撤销理由", http.StatusBadRequest
		}
		p.confirm(w, r, status, step)
		return
	}
	if _, err := p.svc.RevokeCertificate(r.Context(), actorOf(r), c.ID, note); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, shop+"?revoked=1#certificates", http.StatusSeeOther)
}
