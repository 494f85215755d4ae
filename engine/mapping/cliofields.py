"""Clio fields: the field names of Clio API v4 Contact and Matter records, for the validator's
"no such field" check (`client.frist_name` would otherwise be silently null).

Pure data. Taken from Clio's OpenAPI document (../shared/reference/clio/, schemas `Contact` and
`Matter` with everything they include), plus what mapctl adds to each contact in the context
(`relationship`, `role`, `custom`), and `redacted`, which Clio sets on contacts the user may
not see (since 4.0.9).
"""

from __future__ import annotations

CONTACT_FIELDS: frozenset[str] = frozenset(
    """
    account_balances activity_rates addresses avatar client_connect_user_id clio_connect_email
    co_counsel_rate company created_at currency custom_field_set_associations
    custom_field_values date_of_birth email_addresses etag first_name folder
    has_clio_for_clients_permission id initials instant_messengers is_bill_recipient is_client
    is_clio_for_client_user is_co_counsel kyc_field_values last_name ledes_client_id
    legal_aid_uk_contact locked_clio_connect_email middle_name name notification_methods
    payment_profile phone_numbers prefix primary_address primary_email_address
    primary_phone_number primary_web_site primary_work_address related_contacts sales_tax_number
    secondary_address secondary_email_address secondary_phone_number title type updated_at
    web_sites
    redacted
    relationship role custom
    """.split()
)

MATTER_FIELDS: frozenset[str] = frozenset(
    """
    account_balances attorney_allocation billable billing_method client client_id
    client_reference close_date contingency_fee created_at currency
    custom_field_set_associations custom_field_values custom_number custom_rate description
    display_number etag evergreen_retainer folder group has_tasks id kyc_field_values
    last_activity_date legal_aid_uk_matter location maildrop_address matter_bill_recipients
    matter_budget matter_stage matter_stage_updated_at number open_date originating_attorney
    pending_date practice_area relationships responsible_attorney responsible_staff shared
    split_invoice_payers status statute_of_limitations task_template_list_instances updated_at
    user
    """.split()
)

# Context names whose value is one contact.
ONE_CONTACT = ("client", "spouse")

# What people often write for a contact field, and Clio's name for it.
COMMON_NAMES: dict[str, str] = {
    "birth_date": "date_of_birth",
    "birthdate": "date_of_birth",
    "birthday": "date_of_birth",
    "dob": "date_of_birth",
    "email": "primary_email_address",
    "email_address": "primary_email_address",
    "phone": "primary_phone_number",
    "phone_number": "primary_phone_number",
    "address": "primary_address",
    "full_name": "name",
    "fullname": "name",
    "surname": "last_name",
    "given_name": "first_name",
    "gender": "custom.<alias> (Clio keeps gender in a custom field)",
}
