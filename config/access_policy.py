"""The explicit access policy of every route that takes an object id (LEAK-1).

``tests/test_url_policy.py`` walks the URL configuration and fails when a route with a parameter
is missing here, so a new page cannot appear without someone deciding who may reach it and how
it avoids showing a protected identity. Admin routes are covered per registered model.
"""

from __future__ import annotations

from typing import Final

ROUTES: Final[dict[str, str]] = {
    # BILL-2, BILL-3, LEAK-4, ACCESS-9 (issue 12, B3): billing's own lists, by internal id; they
    # show secret customer numbers, invoice and order numbers only, never a person.
    "billing:manual_handle": "billing.change_manualinvoiceitem (role: billing); POST only; the "
    "item by id (404 otherwise); names the secret customer number and order number only",
    "billing:protected_reviewed": "billing.add_protectedaccountreview (role: billing); POST "
    "only; the move by id (404 otherwise); reviewed once, by the user",
    "billing:withdrawal_done": "billing.change_withdrawal (role: billing); POST only; the "
    "withdrawal by id (404 otherwise); invoice and export numbers only",
    "billing:export_file": "billing.view_financeexport (role: billing); the export by id (404 "
    "otherwise); the file holds no protected person (BILL-2, golden-file test)",
    # STAFF-1: an application for ordering rights by its case number (never a patient).
    "staff:application": "login; staff_application_get_for_user: the applicant, the manager "
    "of its unit (prescriptions.confirm_staffapplication) or the account administration "
    "(prescriptions.decide_staffapplication); 404 for anyone else, as for a missing one; "
    "POST confirms, approves or refuses through the services, which check the role again",
    # Issue 12: the billing role's invoice pages, by internal id (404 otherwise). Invoices name
    # regions, order numbers and article texts only, never a patient (ACCESS-9).
    "billing:invoice": "billing.view_invoice (role: billing); the invoice or credit note by id "
    "(404 otherwise); parties, lines with order numbers, totals and history, no patient",
    "billing:invoice_xml": "billing.view_invoice (role: billing); the issued UBL by id (404 "
    "otherwise) as an attachment; the snapshot names no patient",
    "billing:invoice_credit": "billing.run_billing (role: billing); POST only; credit_note_issue "
    "with a reason and a ticked confirmation; 404 for a missing invoice",
    "billing:invoice_replace": "billing.run_billing (role: billing); POST only; "
    "rejected_invoice_replace (refused unless rejected); 404 for a missing invoice",
    "billing:invoice_send": "billing.run_billing (role: billing); POST only; enqueues the send "
    "task by id for an invoice still waiting, or credit_note_send_again for a rejected credit "
    "note; 404 for a missing invoice",
    # QUAL-1, QUAL-2 (issue 11): deviations and medical-device incidents, by internal id.
    "logistics:deviation": "logistics.handle_deviation (role: customer service); the deviation "
    "by id (404 otherwise); the patient only through patient_labels_for_user (masked without a "
    "grant, each row logged); POST moves its state with history",
    "logistics:deviation_attach": "patients.view_patient (role) and the gate: full card only "
    "(404 for a masked or missing patient, step-up for a grant holder); attaches a deviation "
    "reported without the person by its number, logged as a change",
    "logistics:incident_raise": "logistics.add_incident (technicians, customer service); the "
    "device by id (404 otherwise); no patient shown; the device is kept as evidence",
    "logistics:incident": "logistics.view_incident (technicians, customer service); POST needs "
    "logistics.change_incident; the incident by id (404 otherwise); names no patient",
    "logistics:incident_report": "logistics.view_incident; the report to the manufacturer and "
    "Läkemedelsverket by id (404 otherwise); device and event only, never a patient (LEAK-4)",
    "logistics:reservation_release": "logistics.view_reservation (prescribers); POST only; "
    "only the user's own draft reservations (404 otherwise); names the prescription by number "
    "only, never the patient (LOG-1)",
    # Picking and delivery (logistics.work_orders): waves, packages and items by internal id;
    # pages show order numbers, units and prescribers; a protected patient's order only as the
    # prescriber's unit and the prescriber (PRINT-1, PRESC-2). 404 for a missing id.
    "logistics:wave": "logistics.work_orders (role); the wave by id (404 otherwise); order "
    "numbers, articles and serials only, no patient",
    "logistics:pick": "logistics.work_orders (role); POST only; an item of this wave (refused "
    "otherwise), 404 for a missing wave",
    "logistics:pick_list": "logistics.work_orders (role); POST only; document_request "
    "(identity-free for a protected patient, PRINT-1)",
    "logistics:package_paper": "logistics.work_orders (role); POST only; label or delivery note "
    "through document_request (identity-free for a protected patient, PRINT-1); 404 otherwise",
    "logistics:deliver": "logistics.work_orders (role); POST only; a package out for delivery "
    "(404 for a missing one); the receiver's text checked for the patient's identity",
    # Direct deliveries by suppliers (LOG-3, LEAK-4), by internal id.
    "logistics:direct_delivery": "logistics.work_orders (role); the delivery by id (404 "
    "otherwise); an ordinary patient's delivery address, logged as a read; never exists for a "
    "protected patient (the database refuses it)",
    "logistics:direct_withdrawal_confirm": "logistics.work_orders (role); POST only; a "
    "withdrawn delivery not yet confirmed (refused otherwise); order number and supplier only",
    # Work orders (issue 11), by internal id.
    "logistics:work_order": "logistics.work_workorders or logistics.report_faults (role), or "
    "the order's author or prescriber (404 otherwise, as for a missing id); the patient only as "
    "the gate shows them; for a guarded patient the prescriber as contact and the caller's "
    "phone to grant holders only (PRESC-10, LEAK-5); POST actions by role or authorship",
    "protection:contact_agreement": "LEAK-5: the gate's full answer only (grant and step-up); "
    "404 for a masked, missing or unguarded patient, the step-up page for a grant holder who "
    "has not confirmed the password; every read and write logged",
    "patients:detail": "protection.gate.patient_get_for_user: full card only with a grant or "
    "emergency access in force and a recent step-up; masked otherwise",
    # REG-2, REG-3 (issue 14): the register's actions on one patient.
    "protection:reserve_number_record": "patients.record_reserve_number and "
    "patients.view_patient (role: prescribers, unit managers; 403 otherwise); the gate's full "
    "answer only (404 for a masked or missing patient, step-up for a grant holder); the number "
    "travels in the POST body and is searched through the gate first (the hit logged, one "
    "refusal for another patient's number); logged as a change; the administration unit's "
    "notice names the internal reference only, and for a guarded patient not even that (LEAK-2)",
    "protection:register_refresh": "patients.refresh_from_register (role: customer service; 403 "
    "otherwise); POST only; the gate's full answer only (404 for a masked or missing patient); "
    "logged as a read of the register record",
    "protection:request_decide": "change_grantrequest (protection administrators); shows the "
    "patient by internal reference only",
    "protection:grant_end": "change_grant; only grants of the manager's unit (404 otherwise)",
    "protection:local_decide": "add_localprotection (unit managers, own unit); any patient by "
    "internal reference; shows reference and birth year only (PROT-1)",
    "protection:local_renew": "change_localprotection; POST only; only decisions of the "
    "manager's unit (404 otherwise)",
    "protection:local_end": "change_localprotection; POST only; only decisions of the manager's "
    "unit (404 otherwise)",
    "protection:reserve_decide": "add_reservenumberprotection (unit managers, own unit); "
    "reference and birth year only; the reservnummer is checked, never shown",
    "protection:reserve_end": "change_reservenumberprotection; POST only; only the manager's "
    "unit (404 otherwise)",
    "protection:hold_release": "add_protectionreview (protection administrators); POST only; by "
    "internal reference; shows no identity (PROT-3/4)",
    # Issue 10, customer orders: by order number (the prescription's), never a patient id.
    "logistics:order": "view_prescription (own unit's orders only) or logistics.work_orders "
    "(any order, patient by internal reference only, nothing for a guarded patient); 404 "
    "otherwise; identity only where hjm_identity_visible and no guard",
    "logistics:order_cancel": "POST only; as logistics:order (404 otherwise); reason checked "
    "for identity (LEAK-1)",
    "assortment:article": "public, no login (CAT-2): a published article by number (in the "
    "assortment, agreement in force; 404 otherwise); reads only the catalogue's tables, renders "
    "without the request, sets no cookie; name, ISO code, product area and description only",
    "catalogue:article": "prescriptions.search_catalogue (prescribers, customer service, "
    "technicians; CAT-1); catalogue data only, no patient data",
    "logistics:store": "logistics.work_orders (role); a store by its code (404 for a missing or "
    "inactive one); articles and quantities only, no patient",
    "logistics:article_stock": "logistics.work_orders (role); a store by code and an article by "
    "number (404 otherwise); reservations and order lines by order number and unit only, never "
    "a patient; devices by serial and status",
    "logistics:goods_receipt": "logistics.work_orders (role); an open purchase order by number "
    "(404 otherwise); articles, quantities and serials only (LEAK-5)",
    "logistics:queue": "logistics.work_orders (role); a queue by its fixed slug (404 for any "
    "other); order numbers, articles and units only, never a patient",
    # The prescriber's pages: reached by internal patient reference or prescription number
    # (F-XXXXXXXX), never an identity number; patients only through protection.gate.
    "prescriptions:patient": "view_prescription (role); prescriptions.selectors."
    "prescription_list_for_patient through the gate: 404 for a masked patient, step-up for a "
    "grant holder",
    "prescriptions:start": "add_prescription (role); POST only; prescription_draft_start "
    "through the gate (404 for a masked patient)",
    "prescriptions:activity_create": "add_prescription (role); POST only; PRESC-7 "
    "consultation_activity_create through the gate (404 for a masked patient), at the "
    "prescriber's own unit",
    "prescriptions:activity_book": "add_prescription (role); POST only; PRESC-7 an activity of "
    "this patient at one of the user's units (404 otherwise, also for a masked patient); the "
    "booked time only, no patient data in the URL beyond the internal reference",
    "prescriptions:detail": "view_prescription (role); prescription_get_for_user: the "
    "prescriber's own or their unit's, patient through the gate; 404 otherwise",
    "prescriptions:line_add": "add_prescription (role); POST only; the service re-reads the "
    "prescription through the same access path (404 otherwise)",
    "prescriptions:line_change": "add_prescription (role); POST only; a line of a draft the "
    "user may act on (404 otherwise)",
    "prescriptions:line_remove": "add_prescription (role); POST only; as line_change",
    "prescriptions:replacement": "add_prescription (role); POST only; a pending decision of "
    "this prescription (404 otherwise), PRESC-8",
    "prescriptions:details": "add_prescription (role); POST only; draft the user may act on",
    "prescriptions:delivery": "add_prescription (role); POST only; computed destinations "
    "only (PRESC-2)",
    "prescriptions:submit": "add_prescription (role); POST only; draft the user may act on",
    "prescriptions:agreement": "add_prescription (role); POST only; REGION-2 agreement of a "
    "prescription the user may act on",
    "prescriptions:fitting": "add_prescription (role); POST only; PRESC-4",
    "prescriptions:cancel": "add_prescription (role); POST only; open prescriptions the user "
    "may act on",
    "prescriptions:order_confirmation": "view_prescription (role); POST only; "
    "prescription_get_for_user (404 otherwise); the document pipeline's document_request "
    "decides the printing ban and audits (PRINT-1/2)",
    "prescriptions:registration": "add_prescription (role); prescription_get_for_user (own or "
    "unit's, patient through the gate; 404 otherwise, step-up for a grant holder); REGION-3 "
    "details only to users the gate shows the patient to; each read audited",
    "prescriptions:consumable_new": "add_prescription (role); the patient through the gate "
    "(404 when missing or masked, step-up for a grant holder); the read is logged",
    "prescriptions:consumable": "view_prescription (role); customer service (add_phone_order) "
    "or a prescriber of the consumable's unit (404 otherwise); the gate logs the read; a "
    "prescriber needs the full answer, customer service sees a masked patient as the masked "
    "card without birth year (LEAK-5: by the case number); POST takes a withdrawal, customer "
    "service only; delivery computed (PRESC-2)",
    "prescriptions:withdrawal_cancel": "view_prescription (role) and add_phone_order: customer "
    "service only; the consumable through consumable_get_for_user (404 when missing); the "
    "service locks, refuses once the order is picked, reason in the history",
    "prescriptions:phone_order": "add_phone_order (role); the patient through the gate's full "
    "answer (404 when missing or masked, step-up for a grant holder; logged); the service asks "
    "the gate for the prescriber too and computes delivery (PRESC-2)",
    "prescriptions:residence": "add_prescription (role); the patient through the gate (404 when "
    "masked, step-up for a grant holder); REGION-5 country group and certificate only",
    "prescriptions:special_delivery": "add_prescription (role); the gate's full answer only "
    "(grant in force and step-up; 404 when masked); LEAK-3 content to grant holders only, every "
    "read audited",
    "prescriptions:special_delivery_choice": "add_prescription (role); prescription_get_for_user; "
    "protected patients only (404 otherwise); PRESC-2 unit or the agreement in force",
    "protection:emergency_review": "change_emergencyaccess (protection administrators), POST "
    "only; marks one emergency access reviewed; the review shows patients by internal reference "
    "and birth year only",
    "protection:account_confirm": "change_grantrequest (protection administrators), POST only; "
    "lifts one account suspension (ACCESS-10) once its user set their own password, never "
    "one's own; shows usernames only",
    "protection:document_download": "the requester's own ready document only (404 otherwise, "
    "the same for missing and forbidden); every patient it concerns through the gate again and "
    "the printing ban again (PRINT-1); audited as an export (AUDIT-1)",
    "protection:summary_request": "POST only; view_patient; protection.documents.services."
    "document_request decides through the gate and the printing ban (PRINT-1/2), audited",
    # The device register (DEVICE-1).
    # Safety notices (DEVICE-2, DEVICE-5), by internal id.
    "logistics:notice": "logistics.manage_safetynotice (role: logistics); the notice by id (404 "
    "otherwise); a patient's device by order number and prescriber only, never the person "
    "(LEAK-5)",
    "logistics:notice_publish": "logistics.manage_safetynotice; POST only; a draft notice by id "
    "(404 otherwise; refused when not a draft)",
    "logistics:notice_close": "logistics.manage_safetynotice; POST only; a published notice by id "
    "(404 otherwise; refused when not published)",
    "logistics:notice_outreach": "logistics.manage_safetynotice; POST only; a device row of this "
    "notice (404 otherwise), the step contacted or done (refused otherwise)",
    "logistics:notice_patient_contacted": "add_prescription (prescribers); POST only; only a "
    "row of a device the user lent out (404 otherwise); names the order number only",
    "logistics:device": "logistics.view_device (role: logistics, technicians, customer service); "
    "a missing id is a 404; a patient holder is named only where hjm_identity_visible shows "
    "the identity, then through protection.gate (logged); anyone else reads the prescriber's "
    "unit and prescriber from the order line, never the patient or the reference (LEAK-5)",
    # Pickups (PRESC-9), the loss process (DEVICE-4) and reconditioning (DEVICE-3).
    "logistics:pickup_new": "logistics.order_pickup (prescribers, customer service); the "
    "patient by internal reference through protection.gate.patient_get_for_user: full card "
    "only (404 when masked or missing, step-up when due); only devices the patient holds",
    "logistics:pickup": "logistics.work_orders (role); the pickup order by id (404 otherwise); "
    "no patient named; a protected patient's pickup shows the unit and the prescriber only, an "
    "ordinary patient's address is logged as a read (LEAK-5, AUDIT-1)",
    "logistics:pickup_collect": "logistics.work_orders (role); POST only; a line of this "
    "pickup order (404 otherwise); serial numbers only",
    "logistics:pickup_missing": "logistics.work_orders (role); POST only; a line of this "
    "pickup order (404 otherwise); serial numbers only",
    "logistics:loss_case": "logistics.view_losscase (logistics, customer service); by id (404 "
    "otherwise); device, article and care unit only, no patient",
    "logistics:loss_decide": "logistics.change_losscase; POST only; by id (404 otherwise)",
    "logistics:loss_found": "logistics.change_losscase; POST only; by id (404 otherwise)",
    "logistics:device_report_lost": "logistics.change_losscase (customer service, logistics); "
    "POST only; a device that is out (404 otherwise); the loss case names the care unit only",
    "logistics:device_reconditioning": "logistics.work_orders (role); POST only; a device in "
    "the workshop (404 otherwise); no patient",
    # PRESC-6: special adaptations' signing (seed 004). Work order numbers are what everyone
    # shares (LEAK-5); a patient only through protection.labels (masked, logged), no address.
    "logistics:adaptation_sign": "prescriptions.add_prescription (role); only the request's "
    "own prescriber (404 otherwise); signing after step-up (ACCESS-4); patient through "
    "patient_labels_for_user",
    "logistics:adaptation_decline": "prescriptions.add_prescription (role); POST only; only the "
    "request's own prescriber (404 otherwise); the reason checked for an identity number",
    "logistics:adaptation_request_document": "the request's prescriber or a technician "
    "(logistics.work_workorders); 404 otherwise; refused and audited for a guarded patient "
    "(PRINT-1)",
    "logistics:adaptation_record_document": "the signer or a technician "
    "(logistics.work_workorders); 404 otherwise; refused and audited for a guarded patient "
    "(PRINT-1)",
    "logistics:adaptation_work_order": "logistics.work_workorders (technicians); a "
    "special-adaptation work order by id (404 otherwise); no patient shown at all",
    "logistics:adaptation_send": "logistics.work_workorders; POST only; a special-adaptation "
    "work order (404 otherwise); the document checked by content and size",
    "logistics:adaptation_paper": "logistics.work_workorders; POST only; a special-adaptation "
    "work order (404 otherwise); the scan checked by content and size",
    "protection:letter_compose": "add_letter (role); the gate's full card only (404 when "
    "masked); letters through document_request (LETTER-1..3)",
}

# Every model registered in the admin, and why its admin pages cannot show a protected identity.
# Those about a patient are patients.admin_masking.MaskedRowsAdmin: a masked row shows, and is
# found, filtered and ordered by, only the columns its admin declares (ACCESS-1, LEAK-1).
ADMIN_MODELS: Final[dict[str, str]] = {
    "auth.group": "roles; no patient data",
    "auth.user": "staff accounts; no patient data",
    "patients.region": "reference data; read-only",
    "patients.unit": "units; no patient data",
    "patients.staffprofile": "staff working identity; no patient data",
    "patients.patient": "non-identifying columns only; protected patients listed, masked "
    "(reference, birth year), for protection administrators only",
    "patients.registerfile": "file names and counts; no records",
    "patients.quarantinedrecord": "position, PostId and reason; the record is never shown",
    "patients.accessentry": "internal references only (AUDIT-4); no user or unit for a masked "
    "patient",
    "prescriptions.article": "catalogue; no patient data",
    "prescriptions.agreement": "catalogue agreements; no patient data",
    "prescriptions.supplier": "catalogue suppliers; no patient data",
    "prescriptions.replacementgroup": "catalogue replacement groups; no patient data",
    "prescriptions.productarea": "reference data; no patient data",
    "prescriptions.competencearea": "reference data; no patient data",
    "prescriptions.prescribingunit": "units and their delivery address; no patient data",
    "prescriptions.prescriberprofile": "prescribers, their units and training; no patient data",
    "prescriptions.prescription": "patient by reference, masked where the identity is hidden; "
    "read-only except phone orders through the service (PRESC-2)",
    "prescriptions.homeregionagreement": "agreement metadata; the document is never shown",
    "prescriptions.supplyregistration": "REGION-3 details only where the identity is visible",
    "prescriptions.pickuppoint": "LOG-4 pickup points: places, no patient data (customer "
    "service keeps them)",
    "prescriptions.consultationactivity": "unit, prescriber, state and times; state and times "
    "only for a masked patient",
    "prescriptions.invoicemark": "payer, region and amount; no patient",
    "logistics.stocklocation": "stores; no patient data; edited by customer service",
    "logistics.stocklevel": "stock per article and store; no patient data; read-only",
    "logistics.recirculationpolicy": "DEVICE-3 policies per article or product area; no "
    "patient data; edited by customer service",
    "logistics.reservation": "MaskedRowsAdmin through the draft's or the order's patient: a "
    "masked row shows article, quantity, state and times only; read-only",
    "logistics.customerorder": "MaskedRowsAdmin: patient by reference; a masked order shows "
    "number, state and promise only (no unit, prescriber, destination); read-only",
    "logistics.urgentfee": "MaskedRowsAdmin: order number and amount; read-only",
    "billing.tariff": "the price list (articles, kinds, prices, validity); no patient data",
    "logistics.workorder": "MaskedRowsAdmin: a masked work order shows its number, kind, "
    "state and dates only; read-only (the pages write work orders)",
    "logistics.deviation": "MaskedRowsAdmin, read-only: patient by reference; a masked row "
    "shows number, category, state and date only",
    "logistics.incident": "read-only; an incident names a device, never a patient",
    "logistics.device": "MaskedRowsAdmin: a device a masked patient holds shows what it is and "
    "its dates, no region, store, unit or history; read-only",
}
