"""The finance export's file formats: a fixed-width customer-invoice file in the shape of
Raindance's import, and SIE 4i vouchers. Pure functions of the records given to them; which
invoices may leave, and who is shown as the customer, is decided by the service
(billing.services.finance) before anything reaches these."""
