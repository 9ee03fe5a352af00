// The only C++ in the kernel: libphonenumber has no C API. Nothing here
// throws past the extern "C" boundary.
#include "phone_lib.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

const char *type_name(PhoneNumberUtil::PhoneNumberType t)
{
    switch (t) {
    case PhoneNumberUtil::FIXED_LINE: return "fixed_line";
    case PhoneNumberUtil::MOBILE: return "mobile";
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return "fixed_line_or_mobile";
    case PhoneNumberUtil::TOLL_FREE: return "toll_free";
    case PhoneNumberUtil::PREMIUM_RATE: return "premium_rate";
    case PhoneNumberUtil::SHARED_COST: return "shared_cost";
    case PhoneNumberUtil::VOIP: return "voip";
    case PhoneNumberUtil::PERSONAL_NUMBER: return "personal";
    case PhoneNumberUtil::PAGER: return "pager";
    case PhoneNumberUtil::UAN: return "uan";
    case PhoneNumberUtil::VOICEMAIL: return "voicemail";
    default: return "unknown";
    }
}

const char *parse_error(PhoneNumberUtil::ErrorType e)
{
    switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return "no valid country code";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD: return "too short after the international prefix";
    case PhoneNumberUtil::TOO_SHORT_NSN: return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN: return "too long";
    default: return "not a phone number";
    }
}

const char *length_error(PhoneNumberUtil::ValidationResult v)
{
    switch (v) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE: return "no valid country code";
    case PhoneNumberUtil::TOO_SHORT: return "too short";
    case PhoneNumberUtil::TOO_LONG: return "too long";
    case PhoneNumberUtil::INVALID_LENGTH: return "no number of this length";
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY: return "a local number: add the area code";
    default: return NULL;
    }
}

void copy(char *dst, size_t size, const std::string &s)
{
    std::snprintf(dst, size, "%s", s.c_str());
}

} // namespace

extern "C" const char *crm_phonelib_parse(const char *in, const char *country,
                                          crm_phonelib_number *out)
{
    std::memset(out, 0, sizeof *out);
    out->type = "unknown";
    try {
        const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
        std::string region = "ZZ"; // libphonenumber's "no region"
        if (country && std::strlen(country) == 2) {
            region.assign(country);
            for (char &c : region)
                c = (char)std::toupper((unsigned char)c);
        }
        PhoneNumber n;
        PhoneNumberUtil::ErrorType e = u->Parse(in, region, &n);
        if (e != PhoneNumberUtil::NO_PARSING_ERROR) {
            if (region != "ZZ" && e != PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR)
                copy(out->region, sizeof out->region, region);
            return parse_error(e);
        }
        std::string own;
        u->GetRegionCodeForCountryCode(n.country_code(), &own);
        if (own != "ZZ")
            copy(out->region, sizeof out->region, own);
        const char *why = length_error(u->IsPossibleNumberWithReason(n));
        if (why)
            return why;
        // IsValidNumber is "its type is not UNKNOWN": one type lookup (a
        // regex per type) serves both, which import speed notices.
        PhoneNumberUtil::PhoneNumberType t = u->GetNumberType(n);
        if (t == PhoneNumberUtil::UNKNOWN)
            return "not a range in use";
        u->GetRegionCodeForNumber(n, &own);
        copy(out->region, sizeof out->region, own);
        std::string f;
        u->Format(n, PhoneNumberUtil::E164, &f);
        copy(out->e164, sizeof out->e164, f);
        out->type = type_name(t);
        return NULL;
    } catch (...) {
        return "could not be parsed (out of memory)";
    }
}

extern "C" const char *crm_phonelib_type(const char *e164)
{
    if (!e164 || *e164 != '+')
        return "unknown";
    try {
        const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
        PhoneNumber n;
        if (u->Parse(e164, "ZZ", &n) != PhoneNumberUtil::NO_PARSING_ERROR)
            return "unknown";
        return type_name(u->GetNumberType(n));
    } catch (...) {
        return "unknown";
    }
}
