"""Custom Rasa input channels, loaded by Rasa from ``credentials.yml`` by their class path.

* ``borderless.channels.whatsapp.WhatsAppCloudInput`` — WhatsApp Business Cloud API (Meta)
  directly, webhook ``/webhooks/whatsapp/webhook``.
* ``borderless.channels.twilio_whatsapp.TwilioWhatsAppInput`` — WhatsApp through Twilio,
  webhook ``/webhooks/twilio_whatsapp/webhook``; replaces Rasa's ``twilio`` connector, which
  neither checks signatures nor keeps the event loop free.

Nothing is imported here: Rasa imports the module it is pointed at, and the rest of Borderless
must not pay for Rasa and Sanic by importing this package.
"""
